/**
 * bench:raft TRACE=1: per-entry stage times in every node process (diagnosis, off by default).
 * Each process records, per stage, the time an entry index first reached it; bench/raft.ts
 * collects them after the fixed phase and prints where the slowest 1 % of entries spent their
 * time against the median ones (bench/raft-trace-report.ts).
 *
 * Times are CLOCK_MONOTONIC milliseconds (process.hrtime, shared by every process on the
 * machine), read as performance.now() plus an offset taken once: no allocation per mark.
 */
import type { EntryTracer, TraceStage } from '../src/raft/driver/entry-trace.js';

const CAP = 1 << 18;
const MASK = CAP - 1;

/**
 * Monotonic ms comparable across processes. performance.now() is called once first: its first
 * call loads perf_hooks (milliseconds), which would skew an offset taken across it.
 * (performance.timeOrigin + now() is not usable: its wall-clock origin differs by ~0.3 ms
 * between processes.)
 */
performance.now();
const hr = process.hrtime();
const offsetMs = hr[0] * 1000 + hr[1] / 1e6 - performance.now();
export function monoMs(): number {
  return offsetMs + performance.now();
}
/** performance.now() of this process as monotonic ms. */
export function toMonoMs(perfNowMs: number): number {
  return offsetMs + perfNowMs;
}

class Track {
  readonly t = new Float64Array(CAP);
  hw = 0;
}

export class TraceRecorder implements EntryTracer {
  private readonly tracks = new Map<string, Track>();

  mark(stage: TraceStage, lo: number, hi: number, peer?: string): void {
    const key = peer === undefined ? String(stage) : `${stage}:${peer}`;
    let tr = this.tracks.get(key);
    if (!tr) {
      tr = new Track();
      this.tracks.set(key, tr);
    }
    const from = Math.max(lo, tr.hw + 1, hi - CAP + 1);
    if (from > hi) return;
    const now = monoMs();
    for (let i = from; i <= hi; i++) tr.t[i & MASK] = now;
    tr.hw = hi;
  }

  /** Per stage key, the times of indexes lo..hi (0 = never reached). */
  dump(lo: number, hi: number): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [key, tr] of this.tracks) {
      const a: number[] = [];
      for (let i = lo; i <= hi; i++) a.push(tr.t[i & MASK]!);
      out[key] = a;
    }
    return out;
  }

  reset(): void {
    for (const tr of this.tracks.values()) tr.t.fill(0);
  }
}

/** The generator's side (leader process): scheduled, propose() call and answer per index. */
export interface LoadTrace {
  lo: number;
  hi: number;
  scheduled: number[];
  issued: number[];
  resolved: number[];
}

export class LoadTraceRecorder {
  private readonly byIndex = new Map<number, [number, number, number]>();

  done(index: number, scheduledPerf: number, issuedPerf: number, resolvedPerf: number): void {
    this.byIndex.set(index, [
      toMonoMs(scheduledPerf),
      toMonoMs(issuedPerf),
      toMonoMs(resolvedPerf),
    ]);
  }

  take(): LoadTrace {
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const i of this.byIndex.keys()) {
      if (i < lo) lo = i;
      if (i > hi) hi = i;
    }
    const out: LoadTrace = { lo, hi, scheduled: [], issued: [], resolved: [] };
    for (let i = lo; i <= hi; i++) {
      const r = this.byIndex.get(i);
      out.scheduled.push(r ? r[0] : 0);
      out.issued.push(r ? r[1] : 0);
      out.resolved.push(r ? r[2] : 0);
    }
    this.byIndex.clear();
    return out;
  }
}
