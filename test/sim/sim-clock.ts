/**
 * A node's monotonic clock: it runs at its own constant rate against simulated real time.
 * Rates lie in [1, 1 + driftBound], so any two nodes' rates differ by at most the bound the
 * core is configured with (the lease arithmetic's assumption).
 */
export class SimClock {
  constructor(
    readonly rate: number,
    readonly offsetMs: number,
  ) {}

  /** This node's reading at simulated real time `realMs`. */
  localMs(realMs: number): number {
    return this.offsetMs + realMs * this.rate;
  }

  /** Real time that passes while this clock advances by `localMs`. */
  realDurationMs(localMs: number): number {
    return localMs / this.rate;
  }
}
