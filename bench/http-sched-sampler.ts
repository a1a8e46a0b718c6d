/**
 * `--trace`: a timeline of how each process's main thread spent the traced run, so a stall
 * the nodes' own events (fsync, GC, snapshot) do not explain can be told apart as "waiting for
 * a CPU" (runnable, not running: the 2 cores are shared) or "running something else".
 * Every `everyMs` the parent reads /proc/<pid>/schedstat (cumulative ns on a CPU, ns waiting
 * on the run queue) of each process; costs ~20 µs per read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { toMonoMs } from '../src/raft/driver/entry-trace-recorder.js';

/** Cumulative ms on a CPU and ms runnable-but-waiting, sampled at monotonic times. */
export interface SchedTimeline {
  id: string;
  pid: number;
  /** [monotonic ms, running ms, waiting ms] (cumulative since the process started). */
  samples: [number, number, number][];
  /** Every thread of the process over the whole sampled window, by thread name (summed). */
  threads?: { name: string; runMs: number; waitMs: number }[];
}

/** Cumulative [running ms, waiting ms] per thread name (main thread: "main"). */
function threadTotals(pid: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const name = tid === String(pid) ? 'main' : comm;
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      const v = out.get(name) ?? [0, 0];
      out.set(name, [v[0] + Number(run) / 1e6, v[1] + Number(wait) / 1e6]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

function read(pid: number): [number, number] | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  } catch {
    return null; // the process ended meanwhile
  }
}

export function sampleSchedules(procs: { id: string; pid: number }[], everyMs: number) {
  const lines: SchedTimeline[] = procs.map((p) => ({ ...p, samples: [] }));
  const threadsBefore = procs.map((p) => threadTotals(p.pid));
  const tick = (): void => {
    const t = toMonoMs(performance.now());
    for (const l of lines) {
      const v = read(l.pid);
      if (v) l.samples.push([t, v[0], v[1]]);
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop(): SchedTimeline[] {
      clearInterval(timer);
      tick();
      lines.forEach((l, i) => {
        const before = threadsBefore[i]!;
        l.threads = [...threadTotals(l.pid)]
          .map(([name, [run, wait]]) => {
            const b = before.get(name) ?? [0, 0];
            return { name, runMs: run - b[0], waitMs: wait - b[1] };
          })
          .filter((t) => t.runMs + t.waitMs >= 1)
          .sort((a, b) => b.runMs - a.runMs);
      });
      return lines;
    },
  };
}

/** Running and waiting ms of one timeline within [fromMs, toMs], by linear interpolation. */
export function schedWithin(line: SchedTimeline, fromMs: number, toMs: number) {
  const s = line.samples;
  if (s.length === 0) return null;
  // Clamped to the sampled span (the run's first due times precede the first sample slightly).
  fromMs = Math.max(fromMs, s[0]![0]);
  toMs = Math.min(toMs, s[s.length - 1]![0]);
  if (toMs < fromMs) return null;
  const at = (t: number): [number, number] | null => {
    let i = 1;
    while (i < s.length - 1 && s[i]![0] < t) i++;
    const [t0, r0, w0] = s[i - 1]!;
    const [t1, r1, w1] = s[i]!;
    const f = t1 === t0 ? 1 : (t - t0) / (t1 - t0);
    return [r0 + f * (r1 - r0), w0 + f * (w1 - w0)];
  };
  const a = at(fromMs);
  const b = at(toMs);
  if (!a || !b) return null;
  return { runMs: b[0] - a[0], waitMs: b[1] - a[1] };
}
