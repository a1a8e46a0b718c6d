/**
 * The leader's decision time for log entries. Every node reports its own clock in the Raft
 * messages it sends; the leader estimates each voter's current clock from the last report
 * (offset from its own monotonic clock) and stamps entries with the MEDIAN of the voters'
 * estimates, never below the last ts in its log. A clock jump, skew or rate change on any
 * minority of nodes, the leader included, therefore cannot move decision time: the median is
 * always some healthy node's clock. The error is bounded by the healthy clocks' disagreement
 * plus one message delay. Replicas never read a clock to decide; they apply the stamped ts.
 */
export interface PeerClockSample {
  /** Peer clock minus our monotonic clock, when the sample arrived. */
  offsetMs: number;
  /** Our monotonic time of the sample: stale samples are ignored. */
  atMonoMs: number;
}

export class DecisionClock {
  private readonly samples = new Map<string, PeerClockSample>();
  private lastTsMs = 0;

  constructor(
    private readonly selfId: string,
    /** Our clock (wall-seeded, monotonic) and our raw monotonic reading. */
    private readonly nowMs: () => number,
    private readonly monoMs: () => number,
    /** Samples older than this are not trusted (a dead or partitioned peer). */
    private readonly sampleAgeMsMax: number,
  ) {}

  /** Record a peer's clock reading carried by one of its messages. */
  observe(peerId: string, peerClockMs: number): void {
    if (peerId === this.selfId || !Number.isFinite(peerClockMs) || peerClockMs <= 0) return;
    const mono = this.monoMs();
    this.samples.set(peerId, { offsetMs: peerClockMs - mono, atMonoMs: mono });
  }

  forget(peerId: string): void {
    this.samples.delete(peerId);
  }

  /** Raise the floor: the highest ts seen in the log (on election, on append). */
  witness(tsMs: number): void {
    if (tsMs > this.lastTsMs) this.lastTsMs = tsMs;
  }

  get lastTs(): number {
    return this.lastTsMs;
  }

  /** The ts to stamp into the next entry. Never decreases. */
  next(voters: readonly string[]): number {
    const mono = this.monoMs();
    const estimates: number[] = [];
    for (const id of voters) {
      if (id === this.selfId) {
        estimates.push(this.nowMs());
        continue;
      }
      const s = this.samples.get(id);
      if (s !== undefined && mono - s.atMonoMs <= this.sampleAgeMsMax)
        estimates.push(mono + s.offsetMs);
    }
    const ts = Math.floor(median(estimates));
    if (ts > this.lastTsMs) this.lastTsMs = ts;
    return this.lastTsMs;
  }
}

/** Median; with an even count the lower middle (conservative: time advances slower). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  values.sort((a, b) => a - b);
  return values[(values.length - 1) >> 1]!;
}
