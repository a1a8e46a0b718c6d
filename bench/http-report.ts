/**
 * The HTTP benchmark's numbers, from the turns of its interleaved rounds: per target and
 * workload the median over rounds with min..max (how much one run moves), ratios computed
 * *within* each round (both sides measured a few seconds apart, under the same machine load)
 * and then their median, CPU per decision, and the CPU the rest of the machine took meanwhile.
 * Pure functions over collected results, so they are unit-tested with fixed inputs.
 */
import type { NodeWindow } from './http-drl-metrics.js';
import type { HalfRateProbe } from './http-half-rate-probe.js';
import type { LoadResult, PacedResult, WorkloadName } from './http-load-types.js';

export type TargetName = 'bare' | 'redis' | 'drl' | 'base';

/** CPU accounting of one measured turn, in CPU seconds over `windowS` of wall time. */
export interface TurnCpu {
  windowS: number;
  /** Every process of the target (Redis included for redis, the three nodes for drl). */
  targetS: number;
  /** drl only: the leader's process and one follower's. */
  leaderS?: number;
  followerS?: number;
  /** Busy CPU of the whole machine (/proc/stat) minus the benchmark's own processes. */
  otherS: number;
}

/** One target's measured turn for one workload in one round. */
export interface Turn {
  round: number;
  target: TargetName;
  workload: WorkloadName;
  load?: LoadResult;
  cpu?: TurnCpu;
  /** Why there is no result (target unavailable, load generator failed). */
  failure?: string;
}

/** The paced generator on raw sockets, the undici Pool it replaced, autocannon overallRate. */
export type HalfRateGenerator = 'raw' | 'undici' | 'autocannon';

export interface HalfRateRun {
  target: TargetName;
  workload: WorkloadName;
  /** Absent in results written before the generator check: the undici Pool. */
  generator?: HalfRateGenerator;
  /** A paced run (raw, undici). */
  result?: PacedResult;
  /** autocannon overallRate: latency from the actual send only. */
  closed?: LoadResult;
  cpu?: TurnCpu;
  probe?: HalfRateProbe;
  failure?: string;
  /** `--trace` (drl spread): the per-request stage breakdown's lines. */
  trace?: string[];
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface Row {
  target: TargetName;
  workload: WorkloadName;
  failure?: string;
  rate?: Spread;
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  vs: Partial<Record<TargetName, Spread>>;
  targetUsPerDecision?: Spread;
  leaderUsPerDecision?: Spread;
  followerUsPerDecision?: Spread;
  /** Cores' worth of CPU the rest of the machine used during this row's turns. */
  otherCores?: Spread;
  allowed: number;
  ok2xx: number;
  failed: number;
}

export const targetLabels: Record<TargetName, string> = {
  bare: 'bare fastify (ceiling)',
  redis: 'fastify + Redis Lua (AOF fsync always)',
  drl: 'drl, 3-node Raft group (leader)',
  base: 'drl, base build (--drl-base)',
};

export const workloadLabels: Record<WorkloadName, string> = {
  spread: '10k keys, allowed',
  hot: '1 hot key, denied',
};

/** The middle value (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spreadOf(values: number[]): Spread | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
  };
}

const measured = (t: Turn): t is Turn & { load: LoadResult } =>
  t.load !== undefined && t.load.decisionsPerS > 0;

/**
 * a's decisions/s over b's, computed for each round in which both were measured, then
 * summarized: the machine's load changes between rounds, much less within one.
 */
export function sameRoundRatio(
  turns: Turn[],
  a: { target: TargetName; workload: WorkloadName },
  b: { target: TargetName; workload: WorkloadName },
): Spread | undefined {
  const rounds = [...new Set(turns.map((t) => t.round))];
  const ratios: number[] = [];
  for (const round of rounds) {
    const find = (s: typeof a) =>
      turns.find((t) => t.round === round && t.target === s.target && t.workload === s.workload);
    const ta = find(a);
    const tb = find(b);
    if (ta && tb && measured(ta) && measured(tb)) {
      ratios.push(ta.load.decisionsPerS / tb.load.decisionsPerS);
    }
  }
  return spreadOf(ratios);
}

function perDecisionUs(turns: Turn[], cpuS: (c: TurnCpu) => number | undefined) {
  return spreadOf(
    turns.flatMap((t) => {
      const s = t.cpu ? cpuS(t.cpu) : undefined;
      return s !== undefined && t.load && t.load.ok2xx > 0 ? [(s * 1e6) / t.load.ok2xx] : [];
    }),
  );
}

export function summarize(turns: Turn[], targets: TargetName[], workloads: WorkloadName[]) {
  const rows: Row[] = [];
  for (const workload of workloads) {
    for (const target of targets) {
      const mine = turns.filter((t) => t.target === target && t.workload === workload);
      const ok = mine.filter(measured);
      const row: Row = { target, workload, vs: {}, allowed: 0, ok2xx: 0, failed: 0 };
      if (ok.length === 0) {
        row.failure = mine.find((t) => t.failure)?.failure ?? 'no result';
        rows.push(row);
        continue;
      }
      row.rate = spreadOf(ok.map((t) => t.load.decisionsPerS));
      row.p50Ms = median(ok.map((t) => t.load.p50Ms));
      row.p99Ms = median(ok.map((t) => t.load.p99Ms));
      row.p999Ms = median(ok.map((t) => t.load.p999Ms));
      for (const other of targets) {
        if (other === target) continue;
        const r = sameRoundRatio(turns, { target, workload }, { target: other, workload });
        if (r) row.vs[other] = r;
      }
      row.targetUsPerDecision = perDecisionUs(ok, (c) => c.targetS);
      row.leaderUsPerDecision = perDecisionUs(ok, (c) => c.leaderS);
      row.followerUsPerDecision = perDecisionUs(ok, (c) => c.followerS);
      row.otherCores = spreadOf(ok.flatMap((t) => (t.cpu ? [t.cpu.otherS / t.cpu.windowS] : [])));
      for (const t of ok) {
        row.allowed += t.load.allowed;
        row.ok2xx += t.load.ok2xx;
        row.failed += t.load.non2xx + t.load.errors + t.load.timeouts;
      }
      rows.push(row);
    }
  }
  return rows;
}

const fmtRate = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const fmtX = (n: number): string => `${n.toFixed(2)}x`;

/** `median (min..max)`, or the median alone when there was one sample. */
export function fmtSpread(s: Spread | undefined, fmt: (n: number) => string): string {
  if (!s) return '—';
  return s.n === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}..${fmt(s.max)})`;
}

const ratioColumns: TargetName[] = ['redis', 'bare', 'base'];
const ratioHeads: Record<TargetName, string> = {
  redis: 'vs Redis',
  bare: 'vs bare',
  base: 'vs base build',
  drl: 'vs drl',
};

export function markdownTable(rows: Row[]): string {
  const hasBase = rows.some((r) => r.target === 'base');
  const ratios = ratioColumns.filter((t) => t !== 'base' || hasBase);
  const heads = [
    'target',
    'workload',
    'decisions/s median (min..max)',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    ...ratios.map((t) => `${ratioHeads[t]} (same round)`),
    'CPU µs/decision: target / leader / follower',
    'other CPU, cores',
    'allowed',
    'failed',
  ];
  const lines = [`| ${heads.join(' | ')} |`, `|${' --- |'.repeat(heads.length)}`];
  for (const r of rows) {
    const name = `${targetLabels[r.target]} | ${workloadLabels[r.workload]}`;
    if (r.failure !== undefined || !r.rate) {
      const why = (r.failure ?? 'no result').replaceAll('|', '\\|');
      lines.push(`| ${name} | not available (${why}) |${' |'.repeat(heads.length - 3)}`);
      continue;
    }
    const us = (s: Spread | undefined) => (s ? Math.round(s.median).toString() : '—');
    const cpu = `${us(r.targetUsPerDecision)} / ${us(r.leaderUsPerDecision)} / ${us(r.followerUsPerDecision)}`;
    const cells = [
      fmtSpread(r.rate, fmtRate),
      fmtMs(r.p50Ms!),
      fmtMs(r.p99Ms!),
      fmtMs(r.p999Ms!),
      ...ratios.map((t) => (t === r.target ? '1.00x' : fmtSpread(r.vs[t], fmtX))),
      cpu,
      fmtSpread(r.otherCores, (n) => n.toFixed(2)),
      r.ok2xx === 0 ? '—' : `${((100 * r.allowed) / r.ok2xx).toFixed(1)}%`,
      String(r.failed),
    ];
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const generatorLabels: Record<HalfRateGenerator, string> = {
  raw: 'paced, raw sockets',
  undici: 'paced, undici Pool',
  autocannon: 'autocannon overallRate',
};

const optMs = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '—' : Number.isFinite(n) ? fmtMs(n) : '>2500';

/** The half-rate runs' latencies: from the scheduled send, from the actual send, send delay. */
export function halfRateTable(runs: HalfRateRun[]): string {
  const heads = [
    'target',
    'workload',
    'generator',
    'offered/s (½ median max)',
    'answered/s',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'p99 from send ms',
    'send delay p99 / max ms',
    'failed',
  ];
  const lines = [`| ${heads.join(' | ')} |`, `|${' --- |'.repeat(heads.length)}`];
  for (const h of runs) {
    const name = `${targetLabels[h.target]} | ${workloadLabels[h.workload]} | ${generatorLabels[h.generator ?? 'undici']}`;
    const r = h.result;
    const c = h.closed;
    let cells: string[];
    if (r) {
      cells = [
        fmtRate(r.spec.ratePerS),
        fmtRate(r.achievedPerS),
        fmtMs(r.p50Ms),
        fmtMs(r.p99Ms),
        fmtMs(r.p999Ms),
        fmtMs(r.maxMs),
        optMs(r.fromSend?.p99),
        r.sendDelay
          ? `${fmtMs(r.sendDelay.p99)} / ${fmtMs(r.sendDelay.max)}`
          : `— / ${fmtMs(r.sendLagMsMax)}`,
        String(r.non2xx + r.errors + r.dropped),
      ];
    } else if (c) {
      // autocannon times from the actual send: no scheduled-send columns.
      cells = [
        fmtRate(c.spec.overallRate ?? Number.NaN),
        fmtRate(c.decisionsPerS),
        '—',
        '—',
        '—',
        '—',
        fmtMs(c.p99Ms),
        '—',
        String(c.non2xx + c.errors + c.timeouts),
      ];
    } else {
      const why = (h.failure ?? 'not run').replaceAll('|', '\\|');
      lines.push(`| ${name} | not available (${why}) |${' |'.repeat(heads.length - 4)}`);
      continue;
    }
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const nodeCells = (n: NodeWindow | undefined): string[] =>
  n
    ? [
        optMs(n.loopDelayMaxMs),
        n.fsyncs === 0
          ? '0'
          : `${n.fsyncs}, ${optMs(n.fsyncMeanMs)} / ≤${optMs(n.fsyncP99MsBound)}, ${Math.round(n.fsyncTotalMs)}`,
      ]
    : ['—', '—'];

/**
 * Who stalled during each half-rate run: the generator's own loop delay, GC and CPU, how long
 * the generator's and the target's loops waited for a CPU, and drl's nodes' own account.
 */
export function halfRateStallTable(runs: HalfRateRun[]): string {
  const heads = [
    'target',
    'workload',
    'generator',
    'generator loop delay p99 / max ms',
    'generator GC max / total ms',
    'generator CPU, cores',
    'other CPU, cores',
    'run-queue wait ms: generator / target (leader)',
    'leader loop delay max ms',
    'leader fsyncs: n, mean / p99 ms, total ms',
    'follower loop delay max ms',
    'follower fsyncs',
    'drl decision p99 ms (server side)',
  ];
  const lines = [`| ${heads.join(' | ')} |`, `|${' --- |'.repeat(heads.length)}`];
  for (const h of runs) {
    if (!h.result && !h.closed) continue;
    const g = h.result?.generator;
    const p = h.probe;
    const leaderWait =
      p?.leaderRunQueueMs === undefined ? '' : ` (${Math.round(p.leaderRunQueueMs)})`;
    const cells = [
      targetLabels[h.target],
      workloadLabels[h.workload],
      generatorLabels[h.generator ?? 'undici'],
      g ? `${fmtMs(g.loopDelayP99Ms)} / ${fmtMs(g.loopDelayMaxMs)}` : '—',
      g ? `${fmtMs(g.gcMaxMs)} / ${Math.round(g.gcTotalMs)}` : '—',
      g
        ? g.cpuCores.toFixed(2)
        : (h.closed?.loadgenCpuS ?? 0) > 0
          ? (h.closed!.loadgenCpuS / h.closed!.elapsedS).toFixed(2)
          : '—',
      h.cpu ? (h.cpu.otherS / h.cpu.windowS).toFixed(2) : '—',
      p
        ? `${Math.round(p.generatorRunQueueMs)} / ${Math.round(p.targetRunQueueMs)}${leaderWait}`
        : '—',
      ...nodeCells(p?.leader),
      ...nodeCells(p?.follower),
      p?.leader ? `≤${optMs(p.leader.decisionP99MsBound)}` : '—',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** One half-rate run as one progress line. */
export function halfRateLine(h: HalfRateRun): string {
  const r = h.result;
  const p = h.probe;
  const wait = p
    ? `; run-queue wait generator ${Math.round(p.generatorRunQueueMs)} target ${Math.round(p.targetRunQueueMs)} ms`
    : '';
  const leader = p?.leader
    ? `; leader loop delay max ${optMs(p.leader.loopDelayMaxMs)} ms, ${p.leader.fsyncs} fsyncs ${Math.round(p.leader.fsyncTotalMs)} ms`
    : '';
  if (h.closed) {
    const c = h.closed;
    return `${Math.round(c.decisionsPerS)}/s answered, p50 ${fmtMs(c.p50Ms)} p99 ${fmtMs(c.p99Ms)} ms from send${wait}`;
  }
  if (!r) return h.failure ?? 'not run';
  const g = r.generator;
  return (
    `${Math.round(r.achievedPerS)}/s answered, p50 ${fmtMs(r.p50Ms)} p99 ${fmtMs(r.p99Ms)} ` +
    `p99.9 ${fmtMs(r.p999Ms)} ms; from send p99 ${optMs(r.fromSend?.p99)} ms; send delay max ` +
    `${fmtMs(r.sendLagMsMax)} ms` +
    (g
      ? `; generator loop delay max ${fmtMs(g.loopDelayMaxMs)} ms, GC max ${fmtMs(g.gcMaxMs)} ms, CPU ${g.cpuCores.toFixed(2)}`
      : '') +
    wait +
    leader
  );
}

/** The bare target's half-rate p99 with each generator, and the ratios to the raw one. */
export function generatorCheckLines(runs: HalfRateRun[]): string {
  const lines: string[] = [];
  for (const workload of new Set(runs.map((h) => h.workload))) {
    const bare = runs.filter((h) => h.target === 'bare' && h.workload === workload);
    const raw = bare.find((h) => h.generator === 'raw')?.result;
    const undici = bare.find((h) => h.generator === 'undici')?.result;
    const ac = bare.find((h) => h.generator === 'autocannon')?.closed;
    if (!raw || (!undici && !ac)) continue;
    const parts = [
      `raw sockets p99 ${fmtMs(raw.p99Ms)} ms (from send ${optMs(raw.fromSend?.p99)})`,
    ];
    if (undici) {
      parts.push(
        `undici Pool p99 ${fmtMs(undici.p99Ms)} ms (${fmtX(undici.p99Ms / raw.p99Ms)} the raw one)`,
      );
    }
    if (ac) parts.push(`autocannon overallRate p99 ${fmtMs(ac.p99Ms)} ms from send`);
    lines.push(`- bare ${workloadLabels[workload]}: ${parts.join('; ')}`);
  }
  return lines.length === 0
    ? ''
    : ['generator check (bare target at the same half rate, same run):', ...lines].join('\n');
}

/** The targets, each from same-round ratios; undefined when a side was not measured. */
export function goals(turns: Turn[], half: HalfRateRun[]) {
  const drlSpread = { target: 'drl', workload: 'spread' } as const;
  const drlHot = { target: 'drl', workload: 'hot' } as const;
  const drlHalf = half.filter(
    (h) => h.target === 'drl' && h.result && (h.generator ?? 'raw') === 'raw',
  );
  return {
    spreadVsRedis: sameRoundRatio(turns, drlSpread, { target: 'redis', workload: 'spread' }),
    hotVsSpread: sameRoundRatio(turns, drlHot, drlSpread),
    hotVsBare: sameRoundRatio(turns, drlHot, { target: 'bare', workload: 'hot' }),
    halfRateP99Ms: drlHalf.length ? Math.max(...drlHalf.map((h) => h.result!.p99Ms)) : undefined,
  };
}

export function goalLines(g: ReturnType<typeof goals>): string {
  const line = (what: string, s: Spread | undefined, target: number): string => {
    if (!s) return `- ${what}: not measured`;
    const verdict = s.median >= target ? 'met' : 'not met';
    return `- ${what}: ${fmtSpread(s, fmtX)} (target >= ${target.toFixed(2)}x: ${verdict})`;
  };
  const p99 =
    g.halfRateP99Ms === undefined
      ? '- drl p99 at half its max rate: not measured'
      : `- drl p99 at half its max rate, worse workload: ${fmtMs(g.halfRateP99Ms)} ms (target <= 5 ms: ${g.halfRateP99Ms <= 5 ? 'met' : 'not met'})`;
  return [
    'targets (issue 7), medians of same-round ratios (min..max over rounds):',
    line('(a) drl spread / Redis spread', g.spreadVsRedis, 1.0),
    line('(b) drl hot / drl spread', g.hotVsSpread, 1.5),
    line('(b) drl hot / bare hot', g.hotVsBare, 0.7),
    p99,
  ].join('\n');
}

/** Round r starts with a different target, so none always runs first (or last) in a round. */
export function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * The targets' order in round `round` (1-based). A target whose turn follows its own previous
 * turn measured ~1.2x faster in an A/A run (warm caches, its processes just ran:
 * docs/notes/bench-http.md, "The `--drl-base` A/B has a position bias"), so no round ends with
 * the target the next one starts with: three or more targets rotate (the last of a round is
 * never the first of the next), two keep one order (rotating two would put the same one
 * last and first).
 */
export function roundOrder<T>(items: T[], round: number, order: RoundOrder = 'fixed'): T[] {
  if (order === 'alternate' && items.length === 2) {
    return round % 2 === 0 ? [items[1]!, items[0]!] : items;
  }
  return items.length <= 2 ? items : rotate(items, round - 1);
}

/**
 * `fixed`: roundOrder's default. `alternate` (`--order alternate`): two targets swap places
 * every round (A B, B A, A B, ...), so each has as many first turns, second turns and turns
 * right after its own as the other. Two fixed-order side-by-side series of two groups, roles
 * swapped, each favoured the second by 15-20 %; alternated, the same groups measured 1.000x
 * (an A/A in the fixed order later did not show it: docs/notes/bench-http.md, 2026-12-05).
 * Three or more targets rotate either way.
 */
export type RoundOrder = 'fixed' | 'alternate';

export function configBlock(config: Record<string, string | number | boolean>): string {
  const width = Math.max(...Object.keys(config).map((k) => k.length));
  return Object.entries(config)
    .map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
    .join('\n');
}
