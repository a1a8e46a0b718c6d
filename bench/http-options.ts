/** Command-line options of `npm run bench` (bench/http.ts), with the defaults the brief asks for. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { WorkloadName } from './http-load-types.js';
import type { RoundOrder, TargetName } from './http-report.js';

export interface BenchOptions {
  /** Measured seconds per target, workload and round. */
  durationS: number;
  /** Discarded seconds just before each measured turn (same load, same process). */
  warmupS: number;
  /** Each round gives every target its turn at every workload. */
  rounds: number;
  /**
   * Discarded rounds before the first measured one: the run's very first turn is cold (JIT,
   * caches, a fresh group's empty state) and was always drl's.
   */
  warmupRounds: number;
  /** Two targets: one order every round, or swapped every round (`--order alternate`). */
  order: RoundOrder;
  connections: number;
  targets: TargetName[];
  workloads: WorkloadName[];
  /** Also run each target at half its measured maximum rate. */
  halfRate: boolean;
  /** Half rate on bare also with the undici Pool and autocannon overallRate, to compare. */
  generatorCheck: boolean;
  /** host:port HTTP addresses of a running drl group to measure instead of starting one. */
  drlEndpoints: string[] | undefined;
  /** Another checkout whose dist/ build runs as the extra target `base` (A/B in one run). */
  drlBase: string | undefined;
  /** Directory for `node --cpu-prof` profiles of the drl nodes (the leader's is named). */
  cpuProfDir: string | undefined;
  /**
   * Per-request stage trace of drl's spread half-rate run: the drl nodes run with
   * `--test-mode --trace-entries` (not the base build's), see bench/http-trace-report.ts.
   */
  trace: boolean;
  /** Extra `drl serve` flags for the drl target's nodes and for the base target's (A/B). */
  drlServeArgs: string[];
  baseServeArgs: string[];
}

const allTargets: TargetName[] = ['bare', 'redis', 'drl'];
const defaultOutDir = fileURLToPath(new URL('./out', import.meta.url));
const allWorkloads: WorkloadName[] = ['spread', 'hot'];

function orderOf(raw: string): RoundOrder {
  if (raw === 'fixed' || raw === 'alternate') return raw;
  throw new Error(`--order: fixed or alternate, got ${raw}`);
}

function positiveInt(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name}: 1..${max}, got ${raw}`);
  return n;
}

/** `--drl-base` adds the base build right after drl, so the two take turns back to back. */
function withBase(targets: TargetName[], drlBase: string | undefined): TargetName[] {
  if (drlBase === undefined) return targets;
  const at = targets.indexOf('drl');
  return at < 0
    ? [...targets, 'base']
    : [...targets.slice(0, at + 1), 'base', ...targets.slice(at + 1)];
}

function listOf<T extends string>(name: string, raw: string, allowed: T[]): T[] {
  const items = raw.split(',').filter((s) => s.length > 0);
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`--${name}: ${item} is not one of ${allowed}`);
  }
  return items as T[];
}

function words(raw: string): string[] {
  return raw.split(/\s+/).filter((w) => w.length > 0);
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      'warmup-rounds': { type: 'string', default: '1' },
      order: { type: 'string', default: 'fixed' },
      connections: { type: 'string', default: '64' },
      targets: { type: 'string', default: allTargets.join(',') },
      workloads: { type: 'string', default: allWorkloads.join(',') },
      'no-half-rate': { type: 'boolean', default: false },
      'no-generator-check': { type: 'boolean', default: false },
      'drl-endpoints': { type: 'string' },
      'drl-base': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'cpu-prof-dir': { type: 'string' },
      trace: { type: 'boolean', default: false },
      'drl-serve-args': { type: 'string', default: '' },
      'base-serve-args': { type: 'string', default: '' },
    },
  });
  return {
    durationS: positiveInt('duration', values.duration, 600),
    warmupS: Number(values.warmup) === 0 ? 0 : positiveInt('warmup', values.warmup, 60),
    rounds: positiveInt('rounds', values.rounds, 50),
    warmupRounds:
      values['warmup-rounds'] === '0'
        ? 0
        : positiveInt('warmup-rounds', values['warmup-rounds'], 5),
    order: orderOf(values.order),
    connections: positiveInt('connections', values.connections, 1024),
    targets: withBase(listOf('targets', values.targets, allTargets), values['drl-base']),
    workloads: listOf('workloads', values.workloads, allWorkloads),
    halfRate: !values['no-half-rate'],
    generatorCheck: !values['no-generator-check'],
    drlEndpoints: values['drl-endpoints']?.split(',').filter((e) => e.length > 0),
    drlBase: values['drl-base'],
    cpuProfDir:
      values['cpu-prof-dir'] ?? (values['cpu-prof'] ? join(defaultOutDir, 'cpu-prof') : undefined),
    trace: values.trace,
    drlServeArgs: words(values['drl-serve-args']),
    baseServeArgs: words(values['base-serve-args']),
  };
}
