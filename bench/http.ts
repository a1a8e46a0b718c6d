/**
 * `npm run bench`: HTTP decisions/s and latency of drl against two yardsticks on this machine,
 * a bare fastify endpoint (the ceiling) and fastify + an exact sliding-log Lua script in Redis
 * with an fsync-per-write AOF (the usual way to do this). Each target runs in its own process,
 * the load generator (autocannon) in another. Two workloads: 10k keys mostly allowed, one hot
 * key denied. Then each target again at half its maximum rate for p99 below saturation.
 * Prints the configuration, machine load and a markdown table; writes JSON under bench/out/.
 * See docs/notes/bench-http.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSecondsTree, firstJsonLine, spawnTsx, stop, stopAll } from './http-children.js';
import type { LoadResult, LoadSpec, WorkloadName } from './http-load-types.js';
import { type BenchOptions, parseOptions } from './http-options.js';
import { type Cell, configBlock, markdownTable, type TargetName } from './http-report.js';
import { startTarget, type Target } from './http-targets.js';
import type { RedisProcess } from './redis-server-process.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(repoRoot, 'bench', 'out');

function uptime(): string {
  try {
    return execFileSync('uptime', { timeout: 5_000 }).toString().trim();
  } catch {
    return `loadavg ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
  }
}

function packageVersion(name: string): string {
  const path = join(repoRoot, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const t = spawnTsx(`load ${spec.workload} ${spec.url}`, './http-load.ts', [JSON.stringify(spec)]);
  try {
    return await firstJsonLine<LoadResult>(t, spec.durationS * 1000 + 60_000);
  } finally {
    await stop(t);
  }
}

async function measure(
  target: Extract<Target, { available: true }>,
  cell: Cell,
  o: BenchOptions,
): Promise<void> {
  const spec = {
    url: target.url,
    workload: cell.workload,
    connections: o.connections,
    overallRate: 0,
  };
  if (o.warmupS > 0) await runLoad({ ...spec, durationS: o.warmupS });
  const cpuAt = (): number => target.pids.reduce((sum, pid) => sum + cpuSecondsTree(pid), 0);
  const cpuBefore = cpuAt();
  cell.max = await runLoad({ ...spec, durationS: o.durationS });
  // An attached group (--drl-endpoints) has no pids of ours to account.
  cell.targetCpuS = target.pids.length > 0 ? cpuAt() - cpuBefore : undefined;
  report(cell.target, 'max ', cell.max);
  const halfRate = Math.floor(cell.max.decisionsPerS / 2);
  if (o.halfRate && halfRate >= 1) {
    cell.half = await runLoad({ ...spec, durationS: o.durationS, overallRate: halfRate });
    report(cell.target, 'half', cell.half);
  }
}

function report(target: TargetName, phase: string, r: LoadResult): void {
  const ms = (n: number): string => n.toFixed(2);
  process.stdout.write(
    `  ${target.padEnd(5)} ${r.spec.workload.padEnd(6)} ${phase} ${Math.round(r.decisionsPerS)}/s ` +
      `(1 s samples ${r.perSecond.min}..${r.perSecond.max}) ` +
      `p50 ${ms(r.p50Ms)} p99 ${ms(r.p99Ms)} p99.9 ${ms(r.p999Ms)} ms; allowed ${r.allowed}/${r.ok2xx}; ` +
      `non2xx ${r.non2xx} errors ${r.errors}; load ${loadavg()[0]?.toFixed(2)}\n`,
  );
}

async function benchTarget(
  name: TargetName,
  o: BenchOptions,
  onRedis: (r: RedisProcess) => void,
): Promise<Cell[]> {
  const cells: Cell[] = o.workloads.map((workload: WorkloadName) => ({ target: name, workload }));
  const dirs = { repoRoot, outDir, drlEndpoints: o.drlEndpoints };
  const target = await startTarget(name, dirs, onRedis);
  if (!target.available) {
    process.stdout.write(`  ${name}: not available (${target.reason})\n`);
    for (const c of cells) c.unavailable = target.reason;
    return cells;
  }
  process.stdout.write(`  ${name}: ${target.url} (${target.notes})\n`);
  try {
    for (const c of cells) await measure(target, c, o);
  } finally {
    await target.stop();
  }
  return cells;
}

function configuration(o: BenchOptions, redis: RedisProcess | undefined) {
  const cpu = cpus();
  return {
    node: process.version,
    fastify: packageVersion('fastify'),
    autocannon: packageVersion('autocannon'),
    ioredis: packageVersion('ioredis'),
    redis: redis?.version ?? 'not started',
    'redis persistence': `appendonly yes, appendfsync ${redis?.appendfsync ?? '?'}, no RDB`,
    'redis client': 'one ioredis client, enableAutoPipelining, EVALSHA (defineCommand)',
    'redis script': 'exact sliding log: TIME, one ZSET member per unit of cost',
    connections: o.connections,
    pipelining: 1,
    'duration s': o.durationS,
    'warm-up s': o.warmupS,
    'half-rate runs': o.halfRate,
    workloads: 'spread: user:0..9999 round robin, limit 1000/60s; hot: one key, limit 10/60s',
    machine: `${cpu.length} x ${cpu[0]?.model ?? '?'}`,
  };
}

/** Table order: by workload, then ceiling, baseline, drl (whatever order they ran in). */
function tableOrder(cells: Cell[], o: BenchOptions): Cell[] {
  const targets: TargetName[] = ['bare', 'redis', 'drl'];
  return o.workloads.flatMap((w) =>
    targets.flatMap((t) => cells.filter((c) => c.target === t && c.workload === w)),
  );
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  mkdirSync(outDir, { recursive: true });
  const uptimeBefore = uptime();
  process.stdout.write(`HTTP benchmark, ${new Date().toISOString()}\nbefore: ${uptimeBefore}\n`);
  let redis: RedisProcess | undefined;
  const cells: Cell[] = [];
  for (const name of o.targets) cells.push(...(await benchTarget(name, o, (r) => (redis = r))));
  const uptimeAfter = uptime();
  const config = configuration(o, redis);
  const table = markdownTable(tableOrder(cells, o));
  process.stdout.write(`\nconfiguration:\n${configBlock(config)}\n`);
  process.stdout.write(
    `machine load before: ${uptimeBefore}\nmachine load after:  ${uptimeAfter}\n\n`,
  );
  process.stdout.write(`${table}\n`);
  const stamp = new Date().toISOString().replaceAll(':', '-');
  const file = join(outDir, `http-${stamp}.json`);
  const result = { config, uptimeBefore, uptimeAfter, cells, table };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresults: ${file}\n`);
}

/** A bound on the whole run, so a stuck child never leaves the benchmark running. */
function watchdogMs(o: BenchOptions): number {
  const perCell = o.warmupS + 2 * o.durationS + 60;
  return (o.targets.length * o.workloads.length * perCell + 120) * 1000;
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n${signal}: stopping every child\n`);
  void stopAll().finally(() => process.exit(130));
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const watchdog = setTimeout(
  () => {
    process.stderr.write('bench: watchdog expired, stopping every child\n');
    void stopAll().finally(() => process.exit(1));
  },
  watchdogMs(parseOptions(process.argv.slice(2))),
);
watchdog.unref();

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
  clearTimeout(watchdog);
}
