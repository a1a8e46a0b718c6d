import { Inflights } from './inflights.js';

/**
 * How the leader replicates to one peer (etcd's tracker/progress):
 * - probe: one App at a time until the follower's match point is found;
 * - replicate: optimistic pipelining, bounded by inflights;
 * - snapshot: waiting for the driver to stream a snapshot; nothing else is sent.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /**
   * Sending is paused (etcd's MsgAppFlowPaused): in probe state after any App until it is
   * answered; in replicate state while the inflight window is full. A heartbeat ack clears it
   * so one (possibly empty) App goes out: that is how a lost App is detected and repaired.
   */
  msgAppFlowPaused = false;
  /** Index of the snapshot being streamed (snapshot state). */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Highest commit index sent in an App (so commit-only updates are not repeated). */
  sentCommit = 0;
  /** Highest heartbeat round this peer acknowledged in the current term. */
  ackedRound = 0;
  readonly inflights: Inflights;
  readonly isLearner: boolean;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
    this.isLearner = isLearner;
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it (the follower now holds it).
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** The follower acknowledged up to `n`; false if the ack is stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected an App whose preceding index was `rejected`; `matchHint` is the
   * highest index that may match (fast backtracking). False if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Records that an App carrying `entries` entries (last index `lastIndex`) was sent. */
  sentEntries(entries: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
      case 'replicate':
        return this.msgAppFlowPaused;
      default:
        return true;
    }
  }
}
