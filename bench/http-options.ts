/** Command-line options of `npm run bench` (bench/http.ts), with the defaults the brief asks for. */
import { parseArgs } from 'node:util';
import type { WorkloadName } from './http-load-types.js';
import type { TargetName } from './http-report.js';

export interface BenchOptions {
  durationS: number;
  warmupS: number;
  connections: number;
  targets: TargetName[];
  workloads: WorkloadName[];
  /** Also run each target at half its measured maximum rate. */
  halfRate: boolean;
  /** host:port HTTP addresses of a running drl group to measure instead of starting one. */
  drlEndpoints: string[] | undefined;
}

const allTargets: TargetName[] = ['bare', 'redis', 'drl'];
const allWorkloads: WorkloadName[] = ['spread', 'hot'];

function positiveInt(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name}: 1..${max}, got ${raw}`);
  return n;
}

function listOf<T extends string>(name: string, raw: string, allowed: T[]): T[] {
  const items = raw.split(',').filter((s) => s.length > 0);
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`--${name}: ${item} is not one of ${allowed}`);
  }
  return items as T[];
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      targets: { type: 'string', default: allTargets.join(',') },
      workloads: { type: 'string', default: allWorkloads.join(',') },
      'no-half-rate': { type: 'boolean', default: false },
      'drl-endpoints': { type: 'string' },
    },
  });
  return {
    durationS: positiveInt('duration', values.duration, 600),
    warmupS: Number(values.warmup) === 0 ? 0 : positiveInt('warmup', values.warmup, 60),
    connections: positiveInt('connections', values.connections, 1024),
    targets: listOf('targets', values.targets, allTargets),
    workloads: listOf('workloads', values.workloads, allWorkloads),
    halfRate: !values['no-half-rate'],
    drlEndpoints: values['drl-endpoints']?.split(',').filter((e) => e.length > 0),
  };
}
