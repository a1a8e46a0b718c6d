import type { ReadState } from '../types.js';

/** How many recent rounds keep their send time; acks of older rounds cannot extend a lease. */
const roundsKept = 64;
/** Bound on ReadIndex requests waiting for a quorum's heartbeat acks. */
export const pendingReadsMax = 100_000;

interface PendingRead {
  requestId: number;
  index: number;
  round: number;
}

/**
 * The leader's heartbeat rounds (one per broadcast), shared by leases and ReadIndex: each
 * round records when it was sent; once a quorum acked round r, leadership was confirmed after
 * every request queued before r was sent, and the lease runs from r's send time.
 */
export class HeartbeatRounds {
  current = 0;
  /** Highest round a quorum has acknowledged. */
  confirmed = 0;
  leaseExpiryMs = 0;
  /** A ReadIndex request is waiting for a round that has not been broadcast yet. */
  roundRequested = false;
  private readonly sendTimes = new Array<number>(roundsKept).fill(0);
  private readonly reads: PendingRead[] = [];
  private readHead = 0;

  reset(): void {
    this.current = 0;
    this.confirmed = 0;
    this.leaseExpiryMs = 0;
    this.roundRequested = false;
    this.reads.length = 0;
    this.readHead = 0;
  }

  /** A new round is being broadcast now; returns its number. */
  start(nowMs: number): number {
    this.current++;
    this.sendTimes[this.current % roundsKept] = nowMs;
    this.roundRequested = false;
    return this.current;
  }

  sendTime(round: number): number | undefined {
    if (round <= 0 || round > this.current || this.current - round >= roundsKept) return undefined;
    return this.sendTimes[round % roundsKept];
  }

  pendingReads(): number {
    return this.reads.length - this.readHead;
  }

  /** Queues a read to be answered once a quorum acks the next round. */
  queueRead(requestId: number, index: number): void {
    if (this.pendingReads() >= pendingReadsMax) throw new RangeError('too many pending reads');
    this.reads.push({ requestId, index, round: this.current + 1 });
    this.roundRequested = true;
  }

  /** A quorum acked `round`: extends the lease and releases reads it confirms. */
  confirm(round: number, leaseMs: number, out: ReadState[]): void {
    if (round <= this.confirmed) return;
    this.confirmed = round;
    const sent = this.sendTime(round);
    if (sent !== undefined) this.leaseExpiryMs = Math.max(this.leaseExpiryMs, sent + leaseMs);
    while (this.readHead < this.reads.length) {
      const read = this.reads[this.readHead];
      if (read === undefined || read.round > round) break;
      out.push({ requestId: read.requestId, index: read.index });
      this.readHead++;
    }
    if (this.readHead === this.reads.length) {
      this.reads.length = 0;
      this.readHead = 0;
    }
  }
}
