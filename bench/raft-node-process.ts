/**
 * One bench node: a RaftNode in its own process (real fsync in its data dir), driven over IPC
 * by bench/raft.ts. The load generator runs inside the leader's process so that IPC does not
 * sit on the measured path.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import pino from 'pino';
import { RaftNode as LocalRaftNode } from '../src/raft/driver/index.js';
import type { Entry } from '../src/raft/types.js';
import { LOG_WRITE_MODES, type LogWriteMode } from '../src/storage/raft-log-store.js';
import { SLOW_SYNC_MS, wallMs } from './raft-disk-stalls.js';
import { closedLoop, fixedRate, type LoadResult } from './raft-load.js';
import { LoadTraceRecorder, TraceRecorder } from './raft-trace.js';

interface Args {
  id: string;
  dataDir: string;
  port: number;
  peers: Record<string, string>;
}

export type Request =
  | { cmd: 'status' }
  | { cmd: 'reset' }
  | { cmd: 'stats' }
  | { cmd: 'closed'; durationMs: number; concurrency: number; entryBytes: number }
  | { cmd: 'fixed'; durationMs: number; ratePerSec: number; entryBytes: number }
  | { cmd: 'trace'; lo: number; hi: number }
  | { cmd: 'loadTrace' }
  | { cmd: 'stop' };

export interface NodeStats {
  id: string;
  elapsedMs: number;
  syncs: number;
  syncedEntries: number;
  syncP50Us: number;
  syncP99Us: number;
  syncMaxUs: number;
  /** Event-loop delay past the 1 ms sampling interval (perf_hooks): main-thread stalls. */
  loopDelayP99Us: number;
  loopDelayMaxUs: number;
  /** Main-thread GC pauses (perf_hooks 'gc' entries): the longest and the sum. */
  gcMaxMs: number;
  gcTotalMs: number;
  /** JS heap in use at the end of the phase. */
  heapUsedMb: number;
  /** user + system CPU of this process over the phase. */
  cpuMs: number;
  sentBytes: number;
  sentEntries: number;
  sentMessages: number;
  droppedMessages: number;
  applied: number;
  /** This node's fsyncs of at least SLOW_SYNC_MS: [start, end] on the shared clock (wallMs). */
  slowSyncs: [number, number][];
  /** GC pauses of at least 1 ms: [start, end] on the shared clock (wallMs). */
  gcPauses: [number, number][];
}

/** Slow fsyncs and GC pauses kept per phase (each list). */
const INTERVALS_MAX = 100_000;

const args = JSON.parse(process.argv[2]!) as Args;
const flags = nodeFlags(process.argv.slice(3));
// BENCH_RAFT_MODULE=<path to a built src/raft/driver/index.js>: run another build's RaftNode
// (e.g. /work/main/dist/...) under the same harness, for side-by-side figures.
const RaftNode: typeof LocalRaftNode = process.env.BENCH_RAFT_MODULE
  ? ((await import(process.env.BENCH_RAFT_MODULE)) as { RaftNode: typeof LocalRaftNode }).RaftNode
  : LocalRaftNode;
/**
 * COMPACT_EVERY=N: the state machine reports every N-th index durable, so the log compacts.
 * Default 2000, `drl serve`'s interval until 2026-12-05 (now at most 100,000 entries, sooner
 * for many keys, --snapshot-pages): a serving node never keeps its whole log
 * in memory, and without compaction the closed loop leaves 300-500k entries in the core whose
 * major GCs (75 ms) were the fixed phase's tail (docs/notes/raft-io.md). 0 = never compact.
 */
const compactEvery = Number(process.env.COMPACT_EVERY ?? 2000);

/**
 * Node flags (BENCH_NODE_FLAGS, or APPLY_FIRST=0/1, passed on by bench/raft.ts):
 * --apply-durable-first=0|1, --leader-sends-before-persist=0|1, --log-writes=sync|worker|pool,
 * --leader-ack-wait-ms=N, --commit-broadcast=eager|piggyback.
 */
function nodeFlags(argv: string[]): {
  applyDurableFirst?: boolean;
  leaderSendsBeforePersist?: boolean;
  logWrites?: LogWriteMode;
  leaderAckWaitMs?: number;
  commitBroadcast?: 'eager' | 'piggyback';
} {
  const out: {
    applyDurableFirst?: boolean;
    leaderSendsBeforePersist?: boolean;
    logWrites?: LogWriteMode;
    leaderAckWaitMs?: number;
    commitBroadcast?: 'eager' | 'piggyback';
  } = {};
  for (const a of argv) {
    const cb = /^--commit-broadcast=(eager|piggyback)$/.exec(a);
    if (cb) {
      out.commitBroadcast = cb[1] as 'eager' | 'piggyback';
      continue;
    }
    const writes = /^--log-writes=(.+)$/.exec(a);
    const mode = LOG_WRITE_MODES.find((m) => m === writes?.[1]);
    if (writes && !mode) throw new Error(`bench node: unknown flag ${a}`);
    if (mode) {
      out.logWrites = mode;
      continue;
    }
    const wait = /^--leader-ack-wait-ms=([0-9.]+)$/.exec(a);
    if (wait) {
      out.leaderAckWaitMs = Number(wait[1]);
      continue;
    }
    const m = /^--([a-z-]+)=(0|1|true|false)$/.exec(a);
    if (!m) throw new Error(`bench node: unknown flag ${a}`);
    const on = m[2] === '1' || m[2] === 'true';
    if (m[1] === 'apply-durable-first') out.applyDurableFirst = on;
    else if (m[1] === 'leader-sends-before-persist') out.leaderSendsBeforePersist = on;
    else throw new Error(`bench node: unknown flag ${a}`);
  }
  return out;
}
/** The driver's options among the flags (commitBroadcast belongs to the core's config). */
function withoutCommitBroadcast<T extends { commitBroadcast?: unknown }>(
  f: T,
): Omit<T, 'commitBroadcast'> {
  const { commitBroadcast: _, ...rest } = f;
  return rest;
}

/** TRACE=1: per-entry stage times (bench/raft-trace.ts); off by default. */
const tracer = process.env.TRACE === '1' ? new TraceRecorder() : null;
const loadTracer = tracer ? new LoadTraceRecorder() : null;
const syncHist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000 });
let syncs = 0;
let syncedEntries = 0;
let slowSyncs: [number, number][] = [];
let appliedCount = 0;
let statsSince = performance.now();
let cpuSince = process.cpuUsage();
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let gcMaxMs = 0;
let gcTotalMs = 0;
let gcPauses: [number, number][] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcTotalMs += e.duration;
    if (e.duration >= 1 && gcPauses.length < INTERVALS_MAX) {
      const start = performance.timeOrigin + e.startTime;
      gcPauses.push([start, start + e.duration]);
    }
    if (e.duration > gcMaxMs) gcMaxMs = e.duration;
  }
}).observe({ entryTypes: ['gc'] });
let base = { sentBytes: 0, sentEntries: 0, sentMessages: 0, droppedMessages: 0 };

const node = new RaftNode<number>({
  id: args.id,
  dataDir: args.dataDir,
  listen: { host: '127.0.0.1', port: args.port },
  peers: args.peers,
  secret: 'bench-secret',
  logger: pino({ level: 'warn' }, pino.destination(2)),
  stateMachine: {
    apply: (_e: Entry) => ++appliedCount,
    ...(compactEvery > 0
      ? { durableIndex: () => appliedIndexHere() - (appliedIndexHere() % compactEvery) }
      : {}),
  },
  ...withoutCommitBroadcast(flags),
  ...(tracer ? { entryTracer: tracer } : {}),
  tickMs: 50,
  electionTicks: 20,
  requestTimeoutMs: 10_000,
  raft: {
    maxUncommittedEntries: 200_000,
    ...(flags.commitBroadcast ? { commitBroadcast: flags.commitBroadcast } : {}),
  },
  onSync: (ms, entries) => {
    syncs++;
    syncedEntries += entries;
    syncHist.recordValue(Math.max(1, Math.round(ms * 1000)));
    if (ms >= SLOW_SYNC_MS && slowSyncs.length < INTERVALS_MAX) {
      const end = wallMs();
      slowSyncs.push([end - ms, end]);
    }
  },
});

function appliedIndexHere(): number {
  return node.appliedIndex();
}

function reset(): void {
  syncHist.reset();
  syncs = 0;
  syncedEntries = 0;
  slowSyncs = [];
  gcPauses = [];
  statsSince = performance.now();
  cpuSince = process.cpuUsage();
  loopDelay.reset();
  gcMaxMs = 0;
  gcTotalMs = 0;
  tracer?.reset();
  const s = node.transportStats();
  base = { ...s };
}

function stats(): NodeStats {
  const s = node.transportStats();
  return {
    id: args.id,
    elapsedMs: performance.now() - statsSince,
    syncs,
    syncedEntries,
    syncP50Us: syncHist.getValueAtPercentile(50),
    syncP99Us: syncHist.getValueAtPercentile(99),
    syncMaxUs: syncHist.maxValue,
    // perf_hooks records whole intervals: what is past the 1 ms resolution is the delay.
    loopDelayP99Us: Math.max(0, loopDelay.percentile(99) / 1000 - 1000),
    loopDelayMaxUs: Math.max(0, loopDelay.max / 1000 - 1000),
    gcMaxMs,
    gcTotalMs,
    heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    cpuMs: cpuMsSince(cpuSince),
    sentBytes: s.sentBytes - base.sentBytes,
    sentEntries: s.sentEntries - base.sentEntries,
    sentMessages: s.sentMessages - base.sentMessages,
    droppedMessages: s.droppedMessages - base.droppedMessages,
    applied: appliedCount,
    slowSyncs,
    gcPauses,
  };
}

function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'status':
      return node.status();
    case 'reset':
      reset();
      return true;
    case 'stats':
      return stats();
    case 'closed':
      return closedLoop(
        node,
        () => syncs,
        req.durationMs,
        req.concurrency,
        req.entryBytes,
      ) satisfies Promise<LoadResult>;
    case 'fixed':
      return fixedRate(
        node,
        () => syncs,
        req.durationMs,
        req.ratePerSec,
        req.entryBytes,
        loadTracer ?? undefined,
      ) satisfies Promise<LoadResult>;
    case 'trace':
      return tracer?.dump(req.lo, req.hi) ?? null;
    case 'loadTrace':
      return loadTracer?.take() ?? null;
    case 'stop':
      await node.stop();
      return true;
  }
}

process.on('message', (raw: { reqId: number; req: Request }) => {
  // After 'stop' the process exits once the reply has left.
  const after = () => raw.req.cmd === 'stop' && process.exit(0);
  handle(raw.req).then(
    (result) => process.send?.({ reqId: raw.reqId, result }, after),
    (err: Error) => process.send?.({ reqId: raw.reqId, error: err.message }, after),
  );
});
process.on('disconnect', () => {
  void node.stop().then(() => process.exit(0));
});

await node.start();
process.send?.({ ready: true });
