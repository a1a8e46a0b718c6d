/**
 * An EntryTracer that keeps, per stage, the time each entry index first reached it, in
 * Float64Array rings indexed by `index & mask` (diagnosis only: bench:raft TRACE=1 and
 * `drl serve --test-mode --trace-entries`). A mark writes a few slots and allocates nothing
 * once a stage's ring exists; `dump` reads a range back for the report.
 *
 * Times are CLOCK_MONOTONIC milliseconds (process.hrtime, shared by every process on the
 * machine), read as performance.now() plus an offset taken once.
 */
import type { EntryTracer, TraceStage } from './entry-trace.js';

/**
 * performance.now() is called once first: its first call loads perf_hooks (milliseconds),
 * which would skew an offset taken across it. (performance.timeOrigin + now() is not usable:
 * its wall-clock origin differs by ~0.3 ms between processes.)
 */
performance.now();
const hr = process.hrtime();
const offsetMs = hr[0] * 1000 + hr[1] / 1e6 - performance.now();

/** Monotonic ms comparable across the processes of this machine. */
export function monoMs(): number {
  return offsetMs + performance.now();
}

/** A performance.now() reading of this process as monotonic ms. */
export function toMonoMs(perfNowMs: number): number {
  return offsetMs + perfNowMs;
}

class Track {
  readonly t: Float64Array;
  /** Highest index marked by `mark` (ranges only move forward). */
  hw = 0;

  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
  }
}

export class TraceRecorder implements EntryTracer {
  private readonly tracks = new Map<string, Track>();
  private readonly mask: number;

  /** `capacity` (a power of two) is how many recent indexes each stage remembers. */
  constructor(private readonly capacity = 1 << 18) {
    if (capacity < 2 || (capacity & (capacity - 1)) !== 0) {
      throw new Error(`trace recorder: capacity ${capacity} is not a power of two`);
    }
    this.mask = capacity - 1;
  }

  private track(key: string): Track {
    let tr = this.tracks.get(key);
    if (!tr) {
      tr = new Track(this.capacity);
      this.tracks.set(key, tr);
    }
    return tr;
  }

  /** Entries [lo, hi] reached `stage` now; lo = 0 means "every index up to hi not marked yet". */
  mark(stage: TraceStage, lo: number, hi: number, peer?: string): void {
    const tr = this.track(peer === undefined ? String(stage) : `${stage}:${peer}`);
    const from = Math.max(lo, tr.hw + 1, hi - this.capacity + 1);
    if (from > hi) return;
    const now = monoMs();
    for (let i = from; i <= hi; i++) tr.t[i & this.mask] = now;
    tr.hw = hi;
  }

  /** One index reached a named point at `atMs` (monotonic); later calls overwrite. */
  set(key: string, index: number, atMs: number): void {
    this.track(key).t[index & this.mask] = atMs;
  }

  /** Per stage key, the times of indexes lo..hi (0 = never reached, or overwritten by the ring). */
  dump(lo: number, hi: number): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    if (hi - lo + 1 > this.capacity) lo = hi - this.capacity + 1;
    for (const [key, tr] of this.tracks) {
      const a: number[] = [];
      for (let i = lo; i <= hi; i++) a.push(tr.t[i & this.mask]!);
      out[key] = a;
    }
    return out;
  }

  /** Forgets the times (not the high-water marks: a lo = 0 mark still starts past them). */
  reset(): void {
    for (const tr of this.tracks.values()) tr.t.fill(0);
  }
}
