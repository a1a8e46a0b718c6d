/**
 * The leader's decision time for log entries. Every node reports its own clock in the Raft
 * messages it sends; the leader estimates each voter's current clock as its last report plus
 * the time elapsed since (capped at `extrapolateMsMax`), and stamps entries with the MEDIAN of
 * the voters' estimates, never below the last ts in its log. A clock jump, skew or rate change
 * on any minority of nodes, the leader included, therefore cannot move decision time: the
 * median is always some healthy node's clock. The cap matters when OUR clock jumps: a sample
 * taken before the jump then extrapolates by at most the cap, and the next heartbeat replaces
 * it. Error bound: the healthy clocks' disagreement + one message delay + the cap. Replicas
 * never read a clock to decide; they apply the stamped ts.
 */
export interface PeerClockSample {
  clockMs: number;
  /** Our monotonic time when the sample arrived. */
  atMonoMs: number;
}

export class DecisionClock {
  private readonly samples = new Map<string, PeerClockSample>();
  private lastTsMs = 0;
  /**
   * Reused by next(), which runs once per request: a typed array, since a number[] emptied by
   * `length = 0` dropped its backing store and re-allocated it on every call.
   */
  private estimates = new Float64Array(5);

  constructor(
    private readonly selfId: string,
    /** Our clock (wall-seeded, monotonic) and our raw monotonic reading. */
    private readonly nowMs: () => number,
    private readonly monoMs: () => number,
    /** A sample is extrapolated by at most this much (a dead peer's estimate stalls). */
    private readonly extrapolateMsMax: number,
  ) {}

  /** Record a peer's clock reading carried by one of its messages. */
  observe(peerId: string, peerClockMs: number): void {
    if (peerId === this.selfId || !Number.isFinite(peerClockMs) || peerClockMs <= 0) return;
    this.samples.set(peerId, { clockMs: peerClockMs, atMonoMs: this.monoMs() });
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
    if (this.estimates.length < voters.length) this.estimates = new Float64Array(voters.length);
    const estimates = this.estimates;
    let count = 0;
    for (const id of voters) {
      if (id === this.selfId) {
        estimates[count++] = this.nowMs();
        continue;
      }
      const s = this.samples.get(id);
      if (s === undefined) continue;
      const elapsedMs = Math.min(Math.max(mono - s.atMonoMs, 0), this.extrapolateMsMax);
      estimates[count++] = s.clockMs + elapsedMs;
    }
    const ts = Math.floor(median(estimates, count));
    if (ts > this.lastTsMs) this.lastTsMs = ts;
    return this.lastTsMs;
  }
}

/**
 * Median; with an even count the lower middle (conservative: time advances slower). Sorts
 * `values` in place by insertion: it holds one estimate per voter (3 or 5), where
 * Array.prototype.sort with a comparator costs more than the sorting itself.
 */
export function median(values: number[] | Float64Array, count = values.length): number {
  if (count === 0) throw new Error('median of nothing');
  for (let i = 1; i < count; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
  return values[(count - 1) >> 1]!;
}
