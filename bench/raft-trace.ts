/**
 * bench:raft TRACE=1: per-entry stage times in every node process (diagnosis, off by default).
 * Each process records, per stage, the time an entry index first reached it; bench/raft.ts
 * collects them after the fixed phase and prints where the slowest 1 % of entries spent their
 * time against the median ones (bench/raft-trace-report.ts).
 * The recorder (and its CLOCK_MONOTONIC clock) is src/raft/driver/entry-trace-recorder.ts,
 * shared with `drl serve --trace-entries`.
 */
import { toMonoMs } from '../src/raft/driver/entry-trace-recorder.js';

export { TraceRecorder } from '../src/raft/driver/entry-trace-recorder.js';

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
