/**
 * Printing for the HTTP benchmark: the configuration block, a console summary and a markdown
 * table ready to paste into the README. Pure formatting over the collected results.
 */
import type { LoadResult, WorkloadName } from './http-load-types.js';

export type TargetName = 'bare' | 'redis' | 'drl';

export interface Cell {
  target: TargetName;
  workload: WorkloadName;
  /** Set when the target could not be measured. */
  unavailable?: string;
  max?: LoadResult;
  half?: LoadResult;
  /** CPU seconds used by the target's processes (Redis included for the redis target). */
  targetCpuS?: number;
}

export const targetLabels: Record<TargetName, string> = {
  bare: 'bare fastify (ceiling)',
  redis: 'fastify + Redis Lua (AOF fsync always)',
  drl: 'drl, 3-node Raft group (leader)',
};

export const workloadLabels: Record<WorkloadName, string> = {
  spread: '10k keys, allowed',
  hot: '1 hot key, denied',
};

const fmtRate = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const fmtRatio = (n: number | undefined): string => (n === undefined ? '—' : `${n.toFixed(2)}×`);

function ratio(cells: Cell[], cell: Cell, against: TargetName): number | undefined {
  const other = cells.find((c) => c.target === against && c.workload === cell.workload);
  const mine = cell.max?.decisionsPerS;
  const theirs = other?.max?.decisionsPerS;
  return mine !== undefined && theirs ? mine / theirs : undefined;
}

function allowedShare(r: LoadResult): string {
  return r.ok2xx === 0 ? '—' : `${((100 * r.allowed) / r.ok2xx).toFixed(1)}%`;
}

function cpuShare(cell: Cell): string {
  if (!cell.targetCpuS || !cell.max) return '—';
  return `${Math.round((100 * cell.targetCpuS) / cell.max.elapsedS)}%`;
}

function failures(r: LoadResult): string {
  const n = r.non2xx + r.errors + r.timeouts;
  return n === 0 ? '0' : `${n} (non2xx ${r.non2xx}, err ${r.errors}, t/o ${r.timeouts})`;
}

export function markdownTable(cells: Cell[]): string {
  const head =
    '| target | workload | decisions/s | p50 ms | p99 ms | p99.9 ms | vs Redis | vs bare | p99 ms at ½ rate | allowed | target CPU | failed |';
  const rule = `|${' --- |'.repeat(12)}`;
  const rows = cells.map((c) => {
    const name = `${targetLabels[c.target]} | ${workloadLabels[c.workload]}`;
    if (c.unavailable !== undefined || !c.max) {
      const reason = (c.unavailable ?? 'no result').replaceAll('|', '\\|');
      return `| ${name} | ${c.target}: not available (${reason}) |${' |'.repeat(9)}`;
    }
    const m = c.max;
    const half = c.half ? `${fmtMs(c.half.p99Ms)} @ ${fmtRate(c.half.decisionsPerS)}/s` : '—';
    return `| ${name} | ${fmtRate(m.decisionsPerS)} | ${fmtMs(m.p50Ms)} | ${fmtMs(m.p99Ms)} | ${fmtMs(m.p999Ms)} | ${fmtRatio(ratio(cells, c, 'redis'))} | ${fmtRatio(ratio(cells, c, 'bare'))} | ${half} | ${allowedShare(m)} | ${cpuShare(c)} | ${failures(m)} |`;
  });
  return [head, rule, ...rows].join('\n');
}

export function configBlock(config: Record<string, string | number | boolean>): string {
  const width = Math.max(...Object.keys(config).map((k) => k.length));
  return Object.entries(config)
    .map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
    .join('\n');
}
