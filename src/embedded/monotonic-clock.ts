/** Where the clock reads time; injectable so tests can move the wall clock and elapsed time. */
export interface ClockSource {
  /** Wall clock, ms since epoch (read once, at construction). */
  wallMs(): number;
  /** A monotonic ms counter with an arbitrary origin (read per call: must be cheap). */
  elapsedMs(): number;
}

const systemSource: ClockSource = {
  wallMs: Date.now,
  // Bound once: a bound native call is measurably cheaper per call than `performance.now()`.
  elapsedMs: performance.now.bind(performance),
};

/**
 * The machine's wall clock made monotonic: seeded from the wall clock (or from `floorMs`, the
 * last persisted decision time, if that is later — so time never goes backwards across a
 * restart) and advanced by a monotonic counter, so a wall-clock step backwards never moves
 * decision times back. Returns integer ms.
 */
export class MonotonicClock {
  private readonly elapsedMs: () => number;
  /** wall ms at elapsed 0. */
  private readonly originMs: number;
  private lastMs: number;

  constructor(floorMs = 0, source: ClockSource = systemSource) {
    this.elapsedMs = source.elapsedMs;
    const startMs = Math.max(source.wallMs(), floorMs);
    this.originMs = startMs - this.elapsedMs();
    this.lastMs = Math.floor(startMs);
  }

  now(): number {
    const t = Math.floor(this.originMs + this.elapsedMs());
    // The counter is monotonic, but floor of a float sum could in theory round down by one.
    if (t > this.lastMs) this.lastMs = t;
    return this.lastMs;
  }
}
