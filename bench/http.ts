/**
 * `npm run bench`: HTTP decisions/s and latency of drl against two yardsticks on this machine,
 * a bare fastify endpoint (the ceiling) and fastify + an exact sliding-log Lua script in Redis
 * with an fsync-per-write AOF (the usual way to do this). Each target runs in its own process,
 * the load generator (autocannon) in another. Two workloads: 10k keys mostly allowed, one hot
 * key denied. One 10 s run on this shared 2-core box swings more than the changes we measure,
 * so the targets take turns in interleaved rounds (parked with SIGSTOP outside their turn),
 * ratios are computed within a round, and the CPU the rest of the machine used during each turn
 * is printed next to them. Then each target at half its median maximum, open loop, for p99
 * below saturation. Prints the configuration, machine load and markdown tables; writes JSON
 * under bench/out/. See docs/notes/bench-http.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cpuSeconds,
  cpuSecondsTree,
  jsonLines,
  machineBusySeconds,
  spawnTsx,
  stop,
  stopAll,
} from './http-children.js';
import { type HalfRateProbe, startProbe } from './http-half-rate-probe.js';
import type {
  LoadResult,
  LoadSpec,
  PacedResult,
  PacedSpec,
  WorkloadName,
} from './http-load-types.js';
import { type BenchOptions, parseOptions } from './http-options.js';
import {
  configBlock,
  fmtMs,
  generatorCheckLines,
  goalLines,
  goals,
  type HalfRateGenerator,
  type HalfRateRun,
  halfRateLine,
  halfRateStallTable,
  halfRateTable,
  markdownTable,
  roundOrder,
  summarize,
  type TargetName,
  type Turn,
  type TurnCpu,
} from './http-report.js';
import { sampleSchedules } from './http-sched-sampler.js';
import { type LiveTarget, startTarget, type Target } from './http-targets.js';
import { collectTrace } from './http-trace-collect.js';
import { workloadDescription } from './http-workloads.js';
import type { RedisProcess } from './redis-server-process.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** --trace: how often the nodes' and the generator's run-queue counters are read. */
const schedSampleMs = 5;
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

/** CPU counters at one instant, to difference over a measured window. */
interface CpuSnapshot {
  machineS: number;
  selfS: number;
  targetS: Map<TargetName, number>;
  leaderS: number | undefined;
  followerS: number | undefined;
}

function snapshot(live: LiveTarget[], roles: { leader?: number; follower?: number }): CpuSnapshot {
  const self = process.cpuUsage();
  const treeS = (t: LiveTarget) =>
    t.rootPids.length === 0
      ? Number.NaN
      : t.rootPids.reduce((sum, pid) => sum + cpuSecondsTree(pid), 0);
  return {
    machineS: machineBusySeconds(),
    selfS: (self.user + self.system) / 1e6,
    targetS: new Map(live.map((t) => [t.name, treeS(t)])),
    leaderS: roles.leader === undefined ? undefined : cpuSeconds(roles.leader),
    followerS: roles.follower === undefined ? undefined : cpuSeconds(roles.follower),
  };
}

function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
  target: TargetName,
  loadgenS: number,
  windowS: number,
): TurnCpu {
  let oursS = b.selfS - a.selfS + loadgenS;
  for (const [name, s] of b.targetS) {
    const d = s - (a.targetS.get(name) ?? s);
    if (Number.isFinite(d)) oursS += d;
  }
  const cpu: TurnCpu = {
    windowS,
    targetS: (b.targetS.get(target) ?? Number.NaN) - (a.targetS.get(target) ?? Number.NaN),
    otherS: Math.max(0, b.machineS - a.machineS - oursS),
  };
  if (a.leaderS !== undefined && b.leaderS !== undefined) cpu.leaderS = b.leaderS - a.leaderS;
  if (a.followerS !== undefined && b.followerS !== undefined) {
    cpu.followerS = b.followerS - a.followerS;
  }
  return cpu;
}

const isPhaseLine = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && (v as { phase?: unknown }).phase === 'measure';

/**
 * Runs one load child (closed-loop or paced) against a resumed target: CPU snapshots at its
 * `{"phase":"measure"}` line and at its result, so warm-up and process start-up are left out;
 * `probe`, when given, is started at that line too (with the child's pid) and ended after.
 */
async function loadTurn<R extends { loadgenCpuS: number; elapsedS: number }, P = undefined>(
  file: string,
  spec: LoadSpec | PacedSpec,
  target: LiveTarget,
  live: LiveTarget[],
  probe?: (generatorPid: number | undefined) => { end(): Promise<P> },
): Promise<{ result: R; cpu: TurnCpu; probe?: P }> {
  const roles = target.roles?.() ?? {};
  const t = spawnTsx(`load ${spec.workload} ${target.name}`, file, [JSON.stringify(spec)]);
  let before: CpuSnapshot | undefined;
  let probing: { end(): Promise<P> } | undefined;
  try {
    const timeoutMs = (spec.warmupS + spec.durationS) * 1000 + 60_000;
    const result = await jsonLines<R>(t, timeoutMs, (v) => {
      if (!isPhaseLine(v)) return v as R;
      before = snapshot(live, roles);
      probing = probe?.(t.child.pid);
      return undefined;
    });
    const after = snapshot(live, roles);
    const from = before ?? after;
    const cpu = cpuBetween(from, after, target.name, result.loadgenCpuS, result.elapsedS);
    return probing ? { result, cpu, probe: await probing.end() } : { result, cpu };
  } finally {
    await stop(t);
  }
}

async function turn(
  round: number,
  workload: WorkloadName,
  target: LiveTarget,
  live: LiveTarget[],
  o: BenchOptions,
): Promise<Turn> {
  const result: Turn = { round, target: target.name, workload };
  await target.resume();
  try {
    const spec: LoadSpec = {
      url: target.url,
      workload,
      connections: o.connections,
      warmupS: o.warmupS,
      durationS: o.durationS,
    };
    const { result: load, cpu } = await loadTurn<LoadResult>('./http-load.ts', spec, target, live);
    result.load = load;
    result.cpu = cpu;
  } catch (err) {
    result.failure = (err as Error).message.split('\n')[0] ?? 'failed';
  } finally {
    target.pause();
  }
  printTurn(result);
  return result;
}

function printTurn(t: Turn): void {
  const round = t.round >= 1 ? `round ${t.round}` : 'warm-up';
  const head = `  ${round} ${t.workload.padEnd(6)} ${t.target.padEnd(5)}`;
  if (!t.load) {
    process.stdout.write(`${head} failed: ${t.failure}\n`);
    return;
  }
  const r = t.load;
  const us = (s: number | undefined) =>
    s === undefined || !Number.isFinite(s) || r.ok2xx === 0
      ? '—'
      : Math.round((s * 1e6) / r.ok2xx).toString();
  const cpu = t.cpu;
  process.stdout.write(
    `${head} ${Math.round(r.decisionsPerS)}/s (1 s samples ${r.perSecond.min}..${r.perSecond.max}) ` +
      `p50 ${fmtMs(r.p50Ms)} p99 ${fmtMs(r.p99Ms)} ms; CPU µs/decision target ${us(cpu?.targetS)} ` +
      `leader ${us(cpu?.leaderS)} follower ${us(cpu?.followerS)}; other CPU ` +
      `${cpu ? (cpu.otherS / cpu.windowS).toFixed(2) : '—'} cores; ` +
      `failed ${r.non2xx + r.errors + r.timeouts}; load ${loadavg()[0]?.toFixed(2)}\n`,
  );
}

/**
 * Each target once more, open loop at half its median maximum, for p99 below saturation; for the
 * bare target also the generators it replaces (undici Pool, autocannon overallRate) at the same
 * rate, so the generator's share of the tail is a same-run comparison.
 */
async function halfRateRun(
  workload: WorkloadName,
  target: LiveTarget,
  maxPerS: number | undefined,
  generator: HalfRateGenerator,
  live: LiveTarget[],
  o: BenchOptions,
): Promise<HalfRateRun> {
  const run: HalfRateRun = { target: target.name, workload, generator };
  const ratePerS = Math.floor((maxPerS ?? 0) / 2);
  if (ratePerS < 1) {
    run.failure = 'no maximum rate measured';
    return run;
  }
  await target.resume();
  const head = `  half   ${workload.padEnd(6)} ${target.name.padEnd(5)} ${generator.padEnd(10)} ${ratePerS}/s offered`;
  try {
    const common = { url: target.url, workload, connections: o.connections };
    const timing = { warmupS: o.warmupS, durationS: o.durationS };
    const probe = (pid: number | undefined) => startProbe(target, pid);
    if (generator === 'autocannon') {
      const spec: LoadSpec = { ...common, ...timing, overallRate: ratePerS };
      const r = await loadTurn<LoadResult, HalfRateProbe>(
        './http-load.ts',
        spec,
        target,
        live,
        probe,
      );
      run.closed = r.result;
      run.cpu = r.cpu;
      if (r.probe) run.probe = r.probe;
    } else {
      const traced = generator === 'raw' && workload === 'spread' ? target.traced : undefined;
      const spec: PacedSpec = { ...common, ...timing, ratePerS, client: generator };
      if (traced) spec.trace = true;
      let sampler: ReturnType<typeof sampleSchedules> | undefined;
      const tracedProbe = (pid: number | undefined) => {
        const procs = traced
          ? traced().nodes.flatMap((n) => (n.pid ? [{ id: n.id, pid: n.pid }] : []))
          : [];
        if (pid !== undefined) procs.push({ id: 'generator', pid });
        sampler = sampleSchedules(procs, schedSampleMs);
        return probe(pid);
      };
      const r = await loadTurn<PacedResult, HalfRateProbe>(
        './http-paced-load.ts',
        spec,
        target,
        live,
        traced ? tracedProbe : probe,
      );
      const sched = sampler?.stop() ?? [];
      run.result = r.result;
      run.cpu = r.cpu;
      if (r.probe) run.probe = r.probe;
      // Collected before the target is parked again; the raw data goes to its own file.
      const trace = r.result.trace;
      if (traced && trace) {
        delete r.result.trace;
        const file = join(
          outDir,
          `http-trace-${new Date().toISOString().replaceAll(':', '-')}.json`,
        );
        run.trace = await collectTrace(trace, traced(), sched, file).catch((err: Error) => [
          `trace: collection failed: ${err.message}`,
        ]);
      }
    }
    process.stdout.write(`${head}, ${halfRateLine(run)}; load ${loadavg()[0]?.toFixed(2)}\n`);
    for (const line of run.trace ?? []) process.stdout.write(`${line}\n`);
  } catch (err) {
    run.failure = (err as Error).message.split('\n')[0] ?? 'failed';
    process.stdout.write(`${head} failed: ${run.failure}\n`);
  } finally {
    target.pause();
  }
  return run;
}

async function startTargets(o: BenchOptions, onRedis: (r: RedisProcess) => void) {
  const dirs = {
    repoRoot,
    outDir,
    drlEndpoints: o.drlEndpoints,
    drlBase: o.drlBase,
    cpuProfDir: o.cpuProfDir,
    drlTrace: o.trace,
    serveArgs: { drl: o.drlServeArgs, base: o.baseServeArgs },
  };
  const targets: Target[] = [];
  for (const name of o.targets) {
    const target = await startTarget(name, dirs, onRedis);
    if (target.available) {
      process.stdout.write(`  ${name}: ${target.url} (${target.notes})\n`);
      // Parked until its turn, so the next target starts on a quieter machine.
      target.pause();
    } else process.stdout.write(`  ${name}: not available (${target.reason})\n`);
    targets.push(target);
  }
  return targets;
}

/** The leader's profile (the file name holds the pid), once the nodes have exited. */
function leaderProfile(dir: string | undefined, pid: number | undefined): string | undefined {
  if (!dir || pid === undefined) return undefined;
  try {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>: thread 0 is the main thread (1.. are workers).
    const file = readdirSync(dir).find((f) => f.includes(`.${pid}.0.`));
    return file === undefined ? undefined : join(dir, file);
  } catch {
    return undefined;
  }
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
    rounds: `${o.rounds} measured after ${o.warmupRounds} discarded; ${roundsOrderText(o)}`,
    'per turn': `${o.warmupS} s warm-up + ${o.durationS} s measured, targets parked (SIGSTOP) outside their turn`,
    'half-rate runs': o.halfRate
      ? `open loop (raw keep-alive sockets, ${o.connections} connections), ½ median max, latency from scheduled send${o.generatorCheck ? '; bare also with undici Pool and autocannon overallRate' : ''}`
      : 'off',
    workloads: workloadDescription,
    'drl base build': o.drlBase ?? '—',
    'drl serve flags': o.drlServeArgs.join(' ') || '—',
    'base serve flags': o.drlBase ? o.baseServeArgs.join(' ') || '—' : '—',
    machine: `${cpu.length} x ${cpu[0]?.model ?? '?'}`,
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  mkdirSync(outDir, { recursive: true });
  const uptimeBefore = uptime();
  const startedAt = new Date().toISOString();
  process.stdout.write(`HTTP benchmark, ${startedAt}\nbefore: ${uptimeBefore}\n`);
  let redis: RedisProcess | undefined;
  const targets = await startTargets(o, (r) => (redis = r));
  const live = targets.filter((t): t is LiveTarget => t.available);
  const turns: Turn[] = targets.flatMap((t) =>
    t.available
      ? []
      : o.workloads.map((workload) => ({ round: 0, target: t.name, workload, failure: t.reason })),
  );
  let drlLeaderPid: number | undefined;
  try {
    // Warm-up rounds are numbered 1 - warmupRounds .. 0, run like the others and discarded.
    for (let round = 1 - o.warmupRounds; round <= o.rounds; round++) {
      for (const workload of o.workloads) {
        for (const target of roundOrder(live, round, o.order)) {
          const t = await turn(round, workload, target, live, o);
          if (round >= 1) turns.push(t);
        }
      }
    }
    const rows = summarize(turns, o.targets, o.workloads);
    const half: HalfRateRun[] = [];
    if (o.halfRate) {
      for (const workload of o.workloads) {
        for (const target of live) {
          const max = rows.find((r) => r.target === target.name && r.workload === workload);
          const generators: HalfRateGenerator[] =
            target.name === 'bare' && o.generatorCheck ? ['raw', 'undici', 'autocannon'] : ['raw'];
          for (const g of generators) {
            half.push(await halfRateRun(workload, target, max?.rate?.median, g, live, o));
          }
        }
      }
    }
    const drl = live.find((t) => t.name === 'drl');
    // The leader as of drl's last turn: its profile is written when the nodes exit below.
    drlLeaderPid = drl?.roles?.().leader;
    for (const t of live) await t.stop();
    const uptimeAfter = uptime();
    const config = configuration(o, redis);
    const table = markdownTable(rows);
    const halfTable = half.length > 0 ? halfRateTable(half) : '';
    const goalText = goalLines(goals(turns, half));
    const out = process.stdout;
    out.write(`\nconfiguration:\n${configBlock(config)}\n`);
    out.write(`started ${startedAt}, ended ${new Date().toISOString()}\n`);
    out.write(`machine load before: ${uptimeBefore}\nmachine load after:  ${uptimeAfter}\n\n`);
    out.write(`${table}\n\n`);
    if (halfTable) {
      out.write(`half rate (open loop unless noted):\n\n${halfTable}\n\n`);
      out.write(`who stalled during the half-rate runs:\n\n${halfRateStallTable(half)}\n\n`);
      const check = generatorCheckLines(half);
      if (check) out.write(`${check}\n\n`);
      for (const run of half) {
        if (!run.trace) continue;
        out.write(`${run.target} ${run.workload} half rate, per-request trace:\n`);
        out.write(`${run.trace.join('\n')}\n\n`);
      }
    }
    out.write(`${goalText}\n`);
    const profile = leaderProfile(o.cpuProfDir && join(o.cpuProfDir, 'drl'), drlLeaderPid);
    if (o.cpuProfDir) out.write(`CPU profile of the drl leader: ${profile ?? 'not found'}\n`);
    const stamp = startedAt.replaceAll(':', '-');
    const file = join(outDir, `http-${stamp}.json`);
    const result = { config, startedAt, uptimeBefore, uptimeAfter, turns, half, rows, table };
    writeFileSync(file, `${JSON.stringify({ ...result, halfTable, goalText }, null, 2)}\n`);
    out.write(`\nresults: ${file}\n`);
  } finally {
    for (const t of live) await t.stop();
  }
}

/** A bound on the whole run, so a stuck child never leaves the benchmark running. */
function watchdogMs(o: BenchOptions): number {
  const perTurnS = o.warmupS + o.durationS + 30;
  const rounds = o.warmupRounds + o.rounds + (o.halfRate ? 1 : 0);
  const turns = o.targets.length * o.workloads.length * rounds;
  // The bare target's half-rate runs with the two generators it is checked against.
  const checks = o.halfRate && o.generatorCheck ? 2 * o.workloads.length : 0;
  return ((turns + checks) * perTurnS + 300) * 1000;
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
  // Every child is stopped; a leftover handle (one default run once idled 5 min after its
  // results) must not keep the benchmark alive.
  process.exit();
}

function roundsOrderText(o: BenchOptions): string {
  if (o.targets.length > 2) return 'rotated (no target twice in a row)';
  return o.order === 'alternate'
    ? 'two targets swapped every round (A B, B A, ...)'
    : 'one order (no target twice in a row)';
}
