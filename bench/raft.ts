/**
 * npm run bench:raft — a 3-node Raft group as 3 child processes over loopback TCP, real fsync
 * (SQLite WAL, synchronous=FULL) in bench/out/. Prints the maximum commit rate (closed loop),
 * commit latency at a fixed offered load, fsync rate/latency, entries per fsync and wire bytes
 * per entry. Exits non-zero when commits are too fast for fsync to be happening.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { RaftStatus } from '../src/raft/types.js';
import { BenchNode, freePorts } from './raft-cluster.js';
import { diskStallReport, quorumStalls, SLOW_SYNC_MS } from './raft-disk-stalls.js';
import { arrivalMs, type LoadResult } from './raft-load.js';
import type { NodeStats } from './raft-node-process.js';
import type { LoadTrace } from './raft-trace.js';
import { traceReport } from './raft-trace-report.js';

const ENTRY_BYTES = 64;
const OFFERED_PER_SEC = Number(process.env.RATE ?? 10_000);
const PHASE_MS = Number(process.env.PHASE_MS ?? 5000);
/** PHASES=fixed: only the fixed-offered-load phase (default: closed loop, then fixed). */
const PHASES = process.env.PHASES ?? 'closed,fixed';
/**
 * Unmeasured time at the offered rate before the fixed phase (FIXED_WARMUP_MS): 5 s after the
 * closed loop (its ~1 M entries of WAL kept the checkpointers' fsyncs on the disk for seconds:
 * 2.4 % of the entries due in quorum-wide fsync stalls after a 2 s warm-up, 0.26 % after 5 s),
 * 2 s when the fixed phase runs alone.
 */
const FIXED_WARMUP_MS = Number(
  process.env.FIXED_WARMUP_MS ?? (PHASES.includes('closed') ? 5000 : 2000),
);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16384);
const IDS = ['n1', 'n2', 'n3'];
/**
 * Flags for every node process: BENCH_NODE_FLAGS (space-separated, e.g.
 * "--apply-durable-first=0"), plus APPLY_FIRST=0/1 as a shorthand for --apply-durable-first
 * and LOG_WRITES=sync|worker|pool for --log-writes.
 * COMPACT_EVERY and BENCH_RAFT_MODULE reach the nodes through the environment.
 */
const NODE_FLAGS = [
  ...(process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== ''),
  ...(process.env.APPLY_FIRST !== undefined
    ? [`--apply-durable-first=${process.env.APPLY_FIRST}`]
    : []),
  ...(process.env.LOG_WRITES !== undefined ? [`--log-writes=${process.env.LOG_WRITES}`] : []),
];

const ms = (us: number): string => (us / 1000).toFixed(3);

async function findLeader(nodes: BenchNode[]): Promise<BenchNode> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const statuses = (await Promise.all(
      nodes.map((n) => n.call({ cmd: 'status' })),
    )) as RaftStatus[];
    const leader = statuses.find((s) => s.role === 'leader');
    if (leader && statuses.every((s) => s.leader === leader.id)) {
      return nodes.find((n) => n.id === leader.id)!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no leader within 20 s');
}

async function phaseStats(nodes: BenchNode[]): Promise<NodeStats[]> {
  return (await Promise.all(nodes.map((n) => n.call({ cmd: 'stats' })))) as NodeStats[];
}

async function reset(nodes: BenchNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.call({ cmd: 'reset' })));
}

function printSyncs(stats: NodeStats[], leaderId: string, committed: number): void {
  for (const s of stats) {
    const perSec = (s.syncs / s.elapsedMs) * 1000;
    const perSync = s.syncs ? s.syncedEntries / s.syncs : 0;
    console.log(
      `  ${s.id}${s.id === leaderId ? ' (leader)  ' : ' (follower)'} fsyncs/s ${perSec.toFixed(0).padStart(5)}` +
        `  fsync p50 ${ms(s.syncP50Us)} ms p99 ${ms(s.syncP99Us)} ms max ${ms(s.syncMaxUs)} ms  entries/fsync ${perSync.toFixed(1)}` +
        `  loop delay p99 ${ms(s.loopDelayP99Us)} ms max ${ms(s.loopDelayMaxUs)} ms  CPU ${((s.cpuMs / s.elapsedMs) * 100).toFixed(0)}%` +
        ` = ${((s.cpuMs * 1000) / Math.max(1, committed)).toFixed(1)} µs/entry` +
        `  GC max ${s.gcMaxMs.toFixed(1)} ms total ${s.gcTotalMs.toFixed(0)} ms heap ${s.heapUsedMb.toFixed(0)} MB`,
    );
  }
  const leader = stats.find((s) => s.id === leaderId)!;
  const all = stats.reduce((acc, s) => acc + s.sentBytes, 0);
  const drops = stats.reduce((acc, s) => acc + s.droppedMessages, 0);
  console.log(
    `  wire: leader ${(leader.sentBytes / Math.max(1, leader.sentEntries)).toFixed(1)} B per entry copy` +
      ` (${leader.sentMessages} msgs), all nodes ${(all / Math.max(1, committed)).toFixed(1)} B per committed entry, ${drops} dropped msgs`,
  );
}

function printLoad(name: string, r: LoadResult): void {
  console.log(
    `${name}: ${r.committed} committed in ${(r.elapsedMs / 1000).toFixed(2)} s = ` +
      `${((r.committed / r.elapsedMs) * 1000).toFixed(0)} entries/s; commit latency p50 ${ms(r.p50Us)} ms ` +
      `p99 ${ms(r.p99Us)} ms p99.9 ${ms(r.p999Us)} ms max ${ms(r.maxUs)} ms; ` +
      `leader fsyncs waited per entry ${(r.fsyncsWaitedPerEntry ?? 0).toFixed(2)}` +
      (r.fromIssue
        ? ` (from the propose() call: p50 ${ms(r.fromIssue.p50Us)} p99 ${ms(r.fromIssue.p99Us)} p99.9 ${ms(r.fromIssue.p999Us)} ms)`
        : '') +
      (r.fromUniform
        ? ` (from a uniform schedule instead of the 1 ms arrival ticks: p50 ${ms(r.fromUniform.p50Us)} p99 ${ms(r.fromUniform.p99Us)} p99.9 ${ms(r.fromUniform.p999Us)} ms)`
        : '') +
      (r.pacerLateUs
        ? ` (the pacer thread${r.pacerLateUs.raised ? ', at nice -20,' : ''} woke late by p99 ${ms(r.pacerLateUs.p99)} max ${ms(r.pacerLateUs.max)} ms)`
        : '') +
      (r.failed ? `; ${r.failed} failed (${r.firstError})` : ''),
  );
}

/** TRACE=1: the fixed phase's per-entry stage breakdown (bench/raft-trace-report.ts). */
async function printTrace(nodes: BenchNode[], leaderId: string): Promise<void> {
  const leader = nodes.find((n) => n.id === leaderId)!;
  const load = (await leader.call({ cmd: 'loadTrace' })) as LoadTrace | null;
  if (!load || load.hi === 0) {
    console.log('trace: nothing recorded');
    return;
  }
  const dumps = Object.fromEntries(
    await Promise.all(
      nodes.map(
        async (n) =>
          [
            n.id,
            (await n.call({ cmd: 'trace', lo: load.lo, hi: load.hi })) as Record<string, number[]>,
          ] as const,
      ),
    ),
  );
  for (const line of traceReport(load, dumps, leaderId, load.lo)) console.log(line);
}

/**
 * The fixed phase's entries that the disk alone held past SLOW_SYNC_MS: due while a quorum of
 * the nodes sat in a slow fsync (bench/raft-disk-stalls.ts). Returns their share of the phase.
 */
function printDiskStalls(stats: NodeStats[], fixed: LoadResult): number {
  const s = fixed.schedule;
  if (!s) return 0;
  const quorum = Math.floor(stats.length / 2) + 1;
  const windows = quorumStalls(
    stats.map((n) => n.slowSyncs),
    quorum,
  );
  const arrival = (i: number): number => arrivalMs(i, s.ratePerSec);
  const r = diskStallReport(windows, s.startWallMs, arrival, s.latencyUs, SLOW_SYNC_MS);
  if (process.env.DUMP_SCHEDULE) {
    writeFileSync(process.env.DUMP_SCHEDULE, JSON.stringify({ ...s, windows, stats }));
  }
  const share = r.delayed / Math.max(1, s.latencyUs.length);
  console.log(
    `  disk: ${r.windows} windows with ${quorum} of ${stats.length} nodes in an fsync >= ${SLOW_SYNC_MS} ms ` +
      `(${r.totalMs.toFixed(1)} ms in all, longest ${r.longestMs.toFixed(1)} ms); ${r.delayed} entries ` +
      `(${(share * 100).toFixed(2)} %) were due in one >= ${SLOW_SYNC_MS} ms before its end; ` +
      `p99 of the others ${r.p99OthersUs === null ? '-' : ms(r.p99OthersUs)} ms (diagnostic)`,
  );
  return share;
}

/**
 * The disk as this run finds it: 4 KiB write + fdatasync, 200 times. The issue's reference
 * (an idle box) is p50 0.13 ms, p99 0.25 ms; on a shared box the commit latencies below move
 * with this.
 */
function probeFdatasync(dir: string): string {
  const path = join(dir, 'fdatasync-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      writeSync(fd, block, 0, block.length, (i % 16) * block.length);
      const started = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  const q = (p: number): string => times[Math.floor(p * (times.length - 1))]!.toFixed(3);
  return `fdatasync probe (4 KiB, 200x): p50 ${q(0.5)} ms p99 ${q(0.99)} ms max ${q(1)} ms`;
}

async function main(): Promise<number> {
  const outDir = join(process.cwd(), 'bench', 'out', `raft-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  const fsType = execFileSync('stat', ['-f', '-c', '%T', outDir], { encoding: 'utf8' }).trim();
  console.log(`bench:raft  3 nodes, loopback TCP, data in ${outDir} (filesystem: ${fsType})`);
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(probeFdatasync(outDir));
  const ports = await freePorts(IDS.length);
  const peers = Object.fromEntries(IDS.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  console.log(
    `node flags: ${NODE_FLAGS.join(' ') || '(none)'}; COMPACT_EVERY=${process.env.COMPACT_EVERY ?? 2000}` +
      `; build: ${process.env.BENCH_RAFT_MODULE ?? 'this worktree (src)'}; phases: ${PHASES}`,
  );
  const nodes = IDS.map(
    (id, i) => new BenchNode(id, join(outDir, id), ports[i]!, peers, NODE_FLAGS),
  );
  try {
    await Promise.all(nodes.map((n) => n.ready));
    const leader = await findLeader(nodes);
    console.log(`leader: ${leader.id}`);
    await leader.call({
      cmd: 'closed',
      durationMs: 1000,
      concurrency: 256,
      entryBytes: ENTRY_BYTES,
    });

    let closed: LoadResult | null = null;
    if (PHASES.includes('closed')) {
      await reset(nodes);
      closed = (await leader.call({
        cmd: 'closed',
        durationMs: PHASE_MS,
        concurrency: CONCURRENCY,
        entryBytes: ENTRY_BYTES,
      })) as LoadResult;
      printLoad(`closed loop (${CONCURRENCY} in flight, ${ENTRY_BYTES} B)`, closed);
      printSyncs(await phaseStats(nodes), leader.id, closed.committed);
    }

    // Warm-up at the offered rate, not measured: the phase before (the closed loop, or the
    // start-up burst) leaves seconds of WAL for the checkpointers to copy and fsync, and the
    // fixed phase's first 1.5 s measured that backlog (20-60 % of its entries past 3 ms per 50 ms,
    // against a few % afterwards), not the steady state at this rate.
    if (FIXED_WARMUP_MS > 0)
      await leader.call({
        cmd: 'fixed',
        durationMs: FIXED_WARMUP_MS,
        ratePerSec: OFFERED_PER_SEC,
        entryBytes: ENTRY_BYTES,
      });
    await reset(nodes);
    const fixed = (await leader.call({
      cmd: 'fixed',
      durationMs: PHASE_MS,
      ratePerSec: OFFERED_PER_SEC,
      entryBytes: ENTRY_BYTES,
    })) as LoadResult;
    printLoad(`fixed ${OFFERED_PER_SEC}/s offered`, fixed);
    const fixedStats = await phaseStats(nodes);
    printSyncs(fixedStats, leader.id, fixed.committed);
    const diskShare = printDiskStalls(fixedStats, fixed);
    if (process.env.TRACE === '1') await printTrace(nodes, leader.id);
    console.log(
      `load average at end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );

    const rate = closed ? (closed.committed / closed.elapsedMs) * 1000 : Number.NaN;
    console.log(
      `targets: >= 100000 entries/s: ${closed ? (rate >= 100_000 ? 'met' : 'NOT met') : 'not measured'} (${rate.toFixed(0)}); ` +
        `p99 <= 3 ms at ${OFFERED_PER_SEC}/s: ${fixed.p99Us <= 3000 ? 'met' : 'NOT met'} (${ms(fixed.p99Us)} ms` +
        `${diskShare >= 0.01 ? `; the disk alone delayed ${(diskShare * 100).toFixed(2)} % of the entries past 3 ms` : ''})`,
    );
    if (fixed.p50Us < 100) {
      console.error('commit p50 < 0.1 ms: fsync is not happening (or not on this path)');
      return 1;
    }
    return 0;
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    if (!process.env.KEEP_DATA) rmSync(outDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
