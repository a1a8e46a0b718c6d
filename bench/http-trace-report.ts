/**
 * `npm run bench -- --trace`: where the drl spread half-rate run's slowest 1 % of requests spent
 * their time, against the median ones. Joins, by log index, the paced generator's times of each
 * request (due, written, answer parsed) with every node's recorded stages
 * (`drl serve --test-mode --trace-entries`: the driver's Raft stages and the /allow route's HTTP
 * points), all CLOCK_MONOTONIC ms. The critical path is cut into consecutive segments whose
 * sum is each request's latency from its due time (the judged figure); the replication
 * segment (Apps on the wire -> quorum) is also shown per member, which run in parallel.
 * Pure: tested on synthetic input (test/bench/http-trace-report.test.ts).
 */
import { TraceStage as S } from '../src/raft/driver/entry-trace.js';
import type { PacedTrace } from './http-load-types.js';
import { type SchedTimeline, schedWithin } from './http-sched-sampler.js';
import {
  type DiskStallReport,
  diskStallReport,
  type Interval,
  quorumStalls,
} from './raft-disk-stalls.js';

/** One node's answer of GET /test/entry-trace (times of indexes lo..hi per stage key). */
export interface NodeTrace {
  id: string;
  lo: number;
  hi: number;
  stages: Record<string, number[]>;
  /** What held the node's loop: [kind, start, end] (fsync, gc, snapshot-capture, ...). */
  events?: [string, number, number][];
}

export interface HttpTraceInput {
  generator: PacedTrace;
  nodes: NodeTrace[];
  leaderId: string;
  /** Main-thread CPU timelines of the nodes and the generator, when sampled. */
  sched?: SchedTimeline[];
}

/**
 * Whose main thread a segment mostly waits for: the generator's, the leader's, or (the
 * replication segment) the member whose fsync or ack completed the quorum.
 */
const segmentOwner = ['g', 'L', 'L', 'L', 'L', 'Q', 'L', 'L', 'L', 'L', 'g'] as const;

/** Consecutive segments of one request's path; their sum is answered - due. */
export const criticalPath = [
  'generator: due -> written to the socket',
  'written -> leader /allow handler entered',
  'handler entered -> proposed (log index)',
  'proposed -> leader Ready taken',
  'leader Ready -> Apps on the wire',
  'Apps on the wire -> quorum (2nd of leader fsync, acks)',
  'quorum -> leader saw the commit',
  'commit -> applied',
  'applied -> decision back in the handler',
  'decision -> reply written',
  'reply written -> generator parsed the answer',
] as const;

export interface TraceRow {
  /** Position in the generator's schedule. */
  tag: number;
  index: number;
  dueMs: number;
  totalMs: number;
  /** Start of each criticalPath segment, then the answer (monotonic ms). */
  marks: number[];
  /** One value per criticalPath segment. */
  path: number[];
  /** Parallel detail of the replication segment (parallelNames order). */
  parallel: number[];
  /** Who made the quorum: "L+n2" etc. */
  quorum: string;
}

export interface TraceAnalysis {
  rows: TraceRow[];
  /** Requests answered with an index but missing some stage (ring overwritten, no ack seen). */
  incomplete: number;
  parallelNames: string[];
}

function timeOf(n: NodeTrace, key: string | number, index: number): number {
  const a = n.stages[String(key)];
  if (a === undefined || index < n.lo || index > n.hi) return 0;
  return a[index - n.lo] ?? 0;
}

/** The 2nd earliest of (who, time) (a 2-of-3 quorum), with who made it; [0, '-'] if < 2. */
export function quorumOf(times: [string, number][]): [number, string] {
  const s = times.filter(([, t]) => t > 0).sort((a, b) => a[1] - b[1]);
  if (s.length < 2) return [0, '-'];
  return [s[1]![1], `${s[0]![0]}+${s[1]![0]}`];
}

export function analyze(input: HttpTraceInput): TraceAnalysis {
  const L = input.nodes.find((n) => n.id === input.leaderId);
  if (L === undefined) throw new Error(`trace: no stages from the leader ${input.leaderId}`);
  const followers = input.nodes.filter((n) => n !== L);
  const parallelNames = [
    'leader: Apps on the wire -> its fsync done',
    ...followers.flatMap((f) => [
      `${f.id}: Apps on the wire -> App stepped`,
      `${f.id}: App stepped -> its Ready taken`,
      `${f.id}: Ready -> fsync done`,
      `${f.id}: fsync done -> AppResp on the wire`,
      `${f.id}: AppResp on the wire -> leader stepped it`,
    ]),
  ];
  const g = input.generator;
  const rows: TraceRow[] = [];
  let incomplete = 0;
  for (let k = 0; k < g.index.length; k++) {
    const index = g.index[k]!;
    const due = g.due[k]!;
    const sent = g.sent[k]!;
    const answered = g.answered[k]!;
    if (index <= 0 || answered === 0) continue;
    const at = (key: string | number) => timeOf(L, key, index);
    const entered = at('http.entered');
    const proposed = at(S.proposed);
    const ready = at(S.ready);
    const onWire = at(S.sent);
    const persisted = at(S.persisted);
    const committed = at(S.committed);
    const applied = at(S.applied);
    const decided = at('http.decided');
    const written = at('http.written');
    const members: [string, number][] = [['L', persisted]];
    const parallel = [persisted - onWire];
    let complete =
      entered > 0 &&
      proposed > 0 &&
      ready > 0 &&
      onWire > 0 &&
      persisted > 0 &&
      committed > 0 &&
      applied > 0 &&
      decided > 0 &&
      written > 0;
    for (const f of followers) {
      const recv = timeOf(f, S.received, index);
      const fReady = timeOf(f, S.ready, index);
      const fPersisted = timeOf(f, S.persisted, index);
      const respSent = timeOf(f, S.respSent, index);
      const acked = at(`${S.acked}:${f.id}`);
      // A follower that never acked this index is simply not in its quorum.
      if (acked > 0) members.push([f.id, acked]);
      if (!(recv > 0 && fReady > 0 && fPersisted > 0 && respSent > 0 && acked > 0)) {
        parallel.push(Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN);
        continue;
      }
      parallel.push(recv - onWire, fReady - recv, fPersisted - fReady, respSent - fPersisted);
      parallel.push(acked - respSent);
    }
    const [quorumAt, quorum] = quorumOf(members);
    if (quorumAt === 0) complete = false;
    if (!complete) {
      incomplete++;
      continue;
    }
    const marks = [
      due,
      sent,
      entered,
      proposed,
      ready,
      onWire,
      quorumAt,
      committed,
      applied,
      decided,
      written,
      answered,
    ];
    const path = criticalPath.map((_, i) => marks[i + 1]! - marks[i]!);
    rows.push({
      tag: k,
      index,
      dueMs: due,
      totalMs: answered - due,
      marks,
      path,
      parallel,
      quorum,
    });
  }
  return { rows, incomplete, parallelNames };
}

const mean = (xs: number[]): number => {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
};

/** Rows sorted by total; the median band (p45-p55) and the slowest 1 % (at least one row). */
export function bands(rows: TraceRow[]): { median: TraceRow[]; slow: TraceRow[] } {
  const s = [...rows].sort((a, b) => a.totalMs - b.totalMs);
  const cut = (from: number, to: number) =>
    s.slice(Math.floor(from * s.length), Math.max(Math.floor(to * s.length), 1));
  return {
    median: cut(0.45, 0.55),
    slow: s.slice(Math.min(Math.floor(0.99 * s.length), s.length - 1)),
  };
}

/** The critical-path segment with the largest mean in `slow`, and the one that grew most. */
export function dominant(median: TraceRow[], slow: TraceRow[]) {
  let largest = 0;
  let grew = 0;
  const m = criticalPath.map((_, i) => mean(median.map((r) => r.path[i]!)));
  const s = criticalPath.map((_, i) => mean(slow.map((r) => r.path[i]!)));
  for (let i = 1; i < criticalPath.length; i++) {
    if (s[i]! > s[largest]!) largest = i;
    if (s[i]! - m[i]! > s[grew]! - m[grew]!) grew = i;
  }
  const total = mean(slow.map((r) => r.totalMs));
  return { largest, grew, share: s[largest]! / total, medianMeans: m, slowMeans: s };
}

/** The process a row's segment i waits for (see segmentOwner). */
function ownerOf(input: HttpTraceInput, r: TraceRow, i: number): string {
  const owner = segmentOwner[i]!;
  if (owner === 'g') return 'generator';
  const last = owner === 'Q' ? r.quorum.split('+')[1] : undefined;
  return last !== undefined && last !== 'L' ? last : input.leaderId;
}

/**
 * Per critical-path segment, mean ms of it (over rows) that its owner's main thread was
 * runnable but waiting for a CPU ("cpu wait", from the sampled schedstat), and that the owner
 * spent in each of its recorded events (fsync, gc, ...; the generator records none).
 */
export function segmentCauses(input: HttpTraceInput, rows: TraceRow[]) {
  const lines = new Map((input.sched ?? []).map((l) => [l.id, l]));
  const nodes = new Map(input.nodes.map((n) => [n.id, n]));
  return criticalPath.map((_, i) => {
    const sums = new Map<string, number>();
    let waited = 0;
    let ran = 0;
    let sampled = 0;
    for (const r of rows) {
      const id = ownerOf(input, r, i);
      const from = r.marks[i]!;
      const to = r.marks[i + 1]!;
      const line = lines.get(id);
      const w = line ? schedWithin(line, from, to) : null;
      if (w) {
        waited += w.waitMs;
        ran += w.runMs;
        sampled++;
      }
      const node = nodes.get(id);
      if (node) for (const [k, ms] of heldBy(node, from, to)) sums.set(k, (sums.get(k) ?? 0) + ms);
    }
    const held = new Map([...sums].map(([k, ms]) => [k, ms / rows.length]));
    const per = (x: number) => (sampled > 0 ? x / sampled : Number.NaN);
    return { cpuWait: per(waited), cpuRun: per(ran), held };
  });
}

/** Per event kind, ms of [fromMs, toMs] covered by the node's events (they do not overlap within a kind). */
export function heldBy(node: NodeTrace, fromMs: number, toMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [kind, start, end] of node.events ?? []) {
    const d = Math.min(end, toMs) - Math.max(start, fromMs);
    if (d > 0) out.set(kind, (out.get(kind) ?? 0) + d);
  }
  return out;
}

/** Slow requests close in due time are one episode (one stall delays every request due in it). */
export function episodes(slow: TraceRow[], gapMs: number) {
  const s = [...slow].sort((a, b) => a.dueMs - b.dueMs);
  /** fromMs..toMs: due times; endMs: the last answer of the episode. */
  const out: { fromMs: number; toMs: number; endMs: number; n: number; worstMs: number }[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    const end = r.dueMs + r.totalMs;
    if (last && r.dueMs - last.toMs <= gapMs) {
      last.toMs = r.dueMs;
      last.endMs = Math.max(last.endMs, end);
      last.n++;
      last.worstMs = Math.max(last.worstMs, r.totalMs);
    } else out.push({ fromMs: r.dueMs, toMs: r.dueMs, endMs: end, n: 1, worstMs: r.totalMs });
  }
  return out;
}

/**
 * The disk's own floor under the p99 target: windows in which a quorum of the nodes sat inside
 * one fsync each, at least targetMs long, and the requests due inside one with at least
 * targetMs of it left. A design that answers only once a quorum made the entry durable cannot
 * answer those within targetMs (the nodes share one disk here: its stalls hold every node's
 * fsync at once). Fsync intervals end when the call returned to the thread, so a node waiting
 * for a CPU right after one counts as inside it.
 */
export function diskFloor(input: HttpTraceInput, targetMs: number): DiskStallReport {
  const byNode = input.nodes.map((n) =>
    (n.events ?? []).filter((e) => e[0] === 'fsync').map((e): Interval => [e[1], e[2]]),
  );
  const quorum = Math.floor(input.nodes.length / 2) + 1;
  const windows = quorumStalls(byNode, quorum).filter(([s, e]) => e - s >= targetMs);
  const g = input.generator;
  const latencyUs = g.due.map((d, i) => (g.answered[i]! > 0 ? (g.answered[i]! - d) * 1000 : -1));
  return diskStallReport(windows, 0, (i) => g.due[i]!, latencyUs, targetMs);
}

const f3 = (x: number): string => (Number.isNaN(x) ? '—' : x.toFixed(3));

/** Issue 7's half-rate p99 target. */
const DISK_FLOOR_TARGET_MS = 5;

export function traceReport(input: HttpTraceInput): string[] {
  const a = analyze(input);
  const answered = input.generator.index.filter((i) => i > 0).length;
  if (a.rows.length < 100) {
    return [
      `trace: only ${a.rows.length} complete requests of ${answered} with an index (${a.incomplete} incomplete), no breakdown`,
    ];
  }
  const { median, slow } = bands(a.rows);
  const d = dominant(median, slow);
  const total = (rs: TraceRow[]) => mean(rs.map((r) => r.totalMs));
  const out = [
    `trace: ${a.rows.length} requests joined by log index (${a.incomplete} incomplete); mean ms, median band (p45-p55, ${median.length} requests, total ${total(median).toFixed(2)} ms) | slowest 1 % (${slow.length}, total ${total(slow).toFixed(2)} ms) | slowest 1 % share`,
  ];
  const line = (name: string, m: number, s: number, share: string) =>
    `  ${name.padEnd(56)} ${f3(m).padStart(8)} ${f3(s).padStart(9)} ${share.padStart(6)}`;
  const slowTotal = total(slow);
  const causes = segmentCauses(input, slow);
  const medianCauses = segmentCauses(input, median);
  out[0] += ' | slowest 1 %: of it, owner waiting for a CPU / in fsync / in GC';
  criticalPath.forEach((name, i) => {
    const share = `${((d.slowMeans[i]! / slowTotal) * 100).toFixed(0)}%`;
    const c = causes[i]!;
    const why = ` ${f3(c.cpuWait).padStart(8)} ${f3(c.held.get('fsync') ?? 0).padStart(7)} ${f3(c.held.get('gc') ?? 0).padStart(7)}`;
    out.push(`${line(name, d.medianMeans[i]!, d.slowMeans[i]!, share)}${why}`);
  });
  const sumOf = (cs: typeof causes, f: (c: (typeof causes)[number]) => number) =>
    cs.reduce((x, c) => x + (Number.isNaN(f(c)) ? 0 : f(c)), 0);
  for (const [band, cs, tot] of [
    ['median band', medianCauses, total(median)],
    ['slowest 1 %', causes, slowTotal],
  ] as const) {
    const wait = sumOf(cs, (c) => c.cpuWait);
    const run = sumOf(cs, (c) => c.cpuRun);
    const fsync = sumOf(cs, (c) => c.held.get('fsync') ?? 0);
    const gc = sumOf(cs, (c) => c.held.get('gc') ?? 0);
    const snap = sumOf(
      cs,
      (c) => (c.held.get('snapshot-capture') ?? 0) + (c.held.get('snapshot-commit') ?? 0),
    );
    const pct = (x: number) => `${((x / tot) * 100).toFixed(0)}%`;
    out.push(
      `  ${band} (${tot.toFixed(2)} ms): segment owner waiting for a CPU ${wait.toFixed(2)} (${pct(wait)}), on a CPU ${run.toFixed(2)} (${pct(run)}), in its fsync ${fsync.toFixed(2)} (${pct(fsync)}), GC ${gc.toFixed(2)} (${pct(gc)}), snapshot ${snap.toFixed(2)} (${pct(snap)}) [owner: the generator for the first and last segment, the quorum's completer for replication, else the leader; CPU wait from schedstat sampled every few ms, interpolated; fsync may include CPU wait]`,
    );
  }
  out.push('  in parallel inside "Apps on the wire -> quorum":');
  a.parallelNames.forEach((name, i) => {
    out.push(
      line(
        `  ${name}`,
        mean(median.map((r) => r.parallel[i]!)),
        mean(slow.map((r) => r.parallel[i]!)),
        '',
      ),
    );
  });
  const quorums = (rs: TraceRow[]) => {
    const c = new Map<string, number>();
    for (const r of rs) c.set(r.quorum, (c.get(r.quorum) ?? 0) + 1);
    return [...c].map(([k, n]) => `${k} ${((n / rs.length) * 100).toFixed(0)}%`).join(', ');
  };
  out.push(`  quorum made by: median ${quorums(median)}; slowest 1 % ${quorums(slow)}`);
  out.push(
    `  slowest 1 %: largest segment "${criticalPath[d.largest]}" (${(d.share * 100).toFixed(0)}% of it), grew most over the median "${criticalPath[d.grew]}" (+${(d.slowMeans[d.grew]! - d.medianMeans[d.grew]!).toFixed(2)} ms)`,
  );
  const t0 = Math.min(...a.rows.map((r) => r.dueMs));
  const eps = episodes(slow, 50).sort((x, y) => y.n - x.n);
  const held = (fromMs: number, toMs: number): string => {
    const nodes = input.nodes.map((n) => {
      const h = [...heldBy(n, fromMs, toMs)].map(([k, ms]) => `${k} ${ms.toFixed(1)}`);
      return `${n.id === input.leaderId ? `${n.id} (leader)` : n.id}: ${h.join(', ') || 'nothing'}`;
    });
    const cpu = (input.sched ?? []).map((l) => {
      const w = schedWithin(l, fromMs, toMs);
      return w ? `${l.id} ${w.runMs.toFixed(1)}/${w.waitMs.toFixed(1)}` : `${l.id} —`;
    });
    return `${nodes.join('; ')}${cpu.length > 0 ? `; main thread on CPU / waiting for one: ${cpu.join(', ')}` : ''}`;
  };
  const runFrom = t0;
  const runTo = Math.max(...a.rows.map((r) => r.dueMs + r.totalMs));
  out.push(
    `  loop held, ms over the whole run (${(runTo - runFrom).toFixed(0)} ms): ${held(runFrom, runTo)}`,
  );
  for (const l of input.sched ?? []) {
    if (!l.threads || l.threads.length === 0) continue;
    const t = l.threads.map((x) => `${x.name} ${x.runMs.toFixed(0)}/${x.waitMs.toFixed(0)}`);
    out.push(`  ${l.id} threads, ms on CPU / waiting for one: ${t.join(', ')}`);
  }
  const floor = diskFloor(input, DISK_FLOOR_TARGET_MS);
  const n = input.generator.due.length;
  out.push(
    `  disk floor: a quorum of nodes sat in fsyncs of >= ${DISK_FLOOR_TARGET_MS} ms in ${floor.windows} window(s), ${floor.totalMs.toFixed(1)} ms in all (longest ${floor.longestMs.toFixed(1)}); ${floor.delayed} of ${n} requests (${((floor.delayed / n) * 100).toFixed(2)} %) were due inside one with >= ${DISK_FLOOR_TARGET_MS} ms of it left${floor.delayed > n / 100 ? ': over 1 %, no design that waits for a quorum to fsync answers p99 <= 5 ms in this run' : ''}; p99 of the others ${floor.p99OthersUs === null ? '—' : (floor.p99OthersUs / 1000).toFixed(2)} ms`,
  );
  for (const e of eps.slice(0, 3)) {
    out.push(
      `  episode due ${(e.fromMs - t0).toFixed(0)} ms (${e.n} slow, window to last answer ${(e.endMs - e.fromMs).toFixed(1)} ms): ${held(e.fromMs, e.endMs)}`,
    );
  }
  out.push(
    `  slowest 1 % in ${eps.length} episode(s) (due times within 50 ms): ${eps
      .slice(0, 5)
      .map(
        (e) =>
          `${e.n} due ${(e.fromMs - t0).toFixed(0)}-${(e.toMs - t0).toFixed(0)} ms, worst ${e.worstMs.toFixed(1)} ms`,
      )
      .join('; ')}`,
  );
  return out;
}
