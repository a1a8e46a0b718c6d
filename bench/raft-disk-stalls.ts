/**
 * What the disk alone did to the fixed phase. On this VM every process's fdatasync stalls
 * together now and then (15-300 ms, device-wide: two probes on different files stall at the
 * same instants), and an entry that arrives while a quorum of nodes sits in such an fsync
 * cannot commit before it ends, whatever the code does. The bench reports how many entries
 * that was, so that a run can tell "the disk set the p99" from "the code did".
 */

/** [startMs, endMs] on a clock shared by the node processes (wallMs). */
export type Interval = [number, number];

/** An fsync at least this long counts as slow: the p99 target's own bound. */
export const SLOW_SYNC_MS = 3;

/** Milliseconds on a clock every node process shares (each process's own origin differs). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface DiskStallReport {
  /** Windows during which at least a quorum of nodes was inside a slow fsync. */
  windows: number;
  totalMs: number;
  longestMs: number;
  /** Entries scheduled inside a window and at least thresholdMs before its end. */
  delayed: number;
  /** Entries committed (latency recorded). */
  committed: number;
  /** Commit p99 of the committed entries that were not delayed (diagnostic; null if none). */
  p99OthersUs: number | null;
}

/** Windows during which at least `quorum` of the nodes' intervals overlap (sweep line). */
export function quorumStalls(byNode: readonly (readonly Interval[])[], quorum: number): Interval[] {
  const events: [number, number][] = [];
  for (const intervals of byNode) {
    for (const [s, e] of intervals) {
      if (!(e >= s)) throw new Error(`disk stalls: interval [${s}, ${e}] ends before it starts`);
      events.push([s, 1], [e, -1]);
    }
  }
  // At equal times, ends before starts: touching intervals do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Interval[] = [];
  let open = 0;
  let from = 0;
  for (const [t, d] of events) {
    const before = open;
    open += d;
    if (before < quorum && open >= quorum) from = t;
    else if (before >= quorum && open < quorum && t > from) out.push([from, t]);
  }
  if (open !== 0) throw new Error(`disk stalls: ${open} intervals left open`);
  return out;
}

/**
 * Entry i arrived at startMs + arrivalMs(i) and committed latencyUs[i] later (negative: it
 * failed). An entry due inside a window waits at least until the window's end.
 */
export function diskStallReport(
  windows: readonly Interval[],
  startMs: number,
  arrivalMs: (i: number) => number,
  latencyUs: ArrayLike<number>,
  thresholdMs: number,
): DiskStallReport {
  let delayed = 0;
  let committed = 0;
  const others: number[] = [];
  let w = 0;
  for (let i = 0; i < latencyUs.length; i++) {
    const due = startMs + arrivalMs(i);
    while (w < windows.length && windows[w]![1] <= due) w++;
    const window = windows[w];
    const waited = window && window[0] <= due ? window[1] - due : 0;
    const latency = latencyUs[i]!;
    if (latency >= 0) committed++;
    if (waited >= thresholdMs) delayed++;
    else if (latency >= 0) others.push(latency);
  }
  others.sort((a, b) => a - b);
  const lengths = windows.map(([s, e]) => e - s);
  return {
    windows: windows.length,
    totalMs: lengths.reduce((a, b) => a + b, 0),
    longestMs: lengths.reduce((a, b) => Math.max(a, b), 0),
    delayed,
    committed,
    p99OthersUs: others.length > 0 ? others[Math.ceil(0.99 * others.length) - 1]! : null,
  };
}
