/**
 * One `drl serve` process: Raft member + limiter state machine + HTTP API, wired together.
 * Holds no consensus or limiter logic; it opens, connects, and closes things in order.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApi, createMetrics, type DrlMetrics } from '../../api/index.js';
import { DrlError } from '../../errors.js';
import { createLimiter } from '../../limiter/index.js';
import type { LogWrites } from '../../raft/driver/node-options.js';
import { RaftNode } from '../../raft/driver/raft-node.js';
import { tlsSocketFactory } from '../../raft/transport/tls-socket-factory.js';
import { parseAddress } from '../../raft/transport/transport-types.js';
import type { ConfChange, SnapshotMeta } from '../../raft/types.js';
import { LimiterSnapshotStore } from '../../storage/limiter-snapshot-store.js';
import type { LogStoreKind } from '../../storage/raft-log-storage.js';
import { DecisionClock } from './decision-clock.js';
import { EntryTraceWiring } from './entry-trace-route.js';
import { type ApplyOutcome, LimiterStateMachine } from './limiter-state-machine.js';
import { MemberDirectory, metaOf } from './member-directory.js';
import { loadDirectoryFile, saveDirectoryFile } from './member-directory-file.js';
import { ReplicatedService } from './replicated-service.js';
import { snapshotPhase } from './snapshot-phase.js';
import { StallLog } from './stall-log.js';
import { createNodeClock } from './test-clock.js';
import { readTlsFiles, type TlsFiles } from './tls-files.js';

export interface ServeOptions {
  id: string;
  data: string;
  http: string;
  raft: string;
  /** Where others reach this node, when not `http` / `raft` (which may bind 0.0.0.0). */
  advertiseHttp?: string | undefined;
  advertiseRaft?: string | undefined;
  /** id -> Raft address of every initial member (empty with --join). */
  peers: Record<string, string>;
  join: boolean;
  token?: string | undefined;
  /** Also require the token on /healthz, /readyz and /metrics. */
  protectOps?: boolean;
  clusterSecretFile?: string | undefined;
  /** PEM files: HTTPS for the API and mutual TLS (against `ca`) for Raft links. */
  tls?: TlsFiles | undefined;
  testMode: boolean;
  testClockFile?: string | undefined;
  testBugs: string[];
  /** Test mode only: record per-entry stage times, served on GET /test/entry-trace. */
  traceEntries?: boolean;
  tickMs: number;
  electionTicks: number;
  requestTimeoutMs: number;
  snapshotEveryEntries: number;
  /** Snapshot sooner once it would rewrite about this many SQLite pages (default 2,000). */
  snapshotPagesMax?: number;
  /** Log entries kept behind a snapshot (a peer further behind gets a snapshot). */
  snapshotTailEntries?: number;
  /** How followers learn commits (RaftConfig.commitBroadcast; default eager). */
  commitBroadcast?: 'eager' | 'piggyback';
  /** How the Raft log is made durable (RaftNodeOptions.logWrites; default sync). */
  logWrites?: LogWrites;
  /** Where the Raft log is kept (RaftNodeOptions.logStore; default file). */
  logStore?: LogStoreKind;
  logLevel: string;
}

export interface RunningNode {
  httpAddress: string;
  stop(): Promise<void>;
}

/** Named switches that each break one safety rule (jepsen-lite must find them). */
export const TEST_BUGS = new Set([
  'lease-without-quorum',
  'skip-leader-noop',
  'commit-old-term-by-count',
  'lease-denial-without-lease',
  'ack-before-fsync',
]);

const DEV_SECRET = 'drl-insecure-default-cluster-secret';

export async function startNode(o: ServeOptions): Promise<RunningNode> {
  if (o.traceEntries === true && !o.testMode) {
    throw new DrlError('invalid_argument', '--trace-entries needs --test-mode');
  }
  const logger = pino({ level: o.logLevel, base: { node: o.id } });
  const stalls = new StallLog(logger);
  mkdirSync(o.data, { recursive: true });
  const secret = readSecret(o, logger);
  const tls = o.tls === undefined ? null : readTlsFiles(o.tls);
  // Shared-readable (WAL, NORMAL locking + owner lock): a leader streams InstallSnapshot from it.
  const store = LimiterSnapshotStore.openFile(join(o.data, 'limiter-state.db'), {
    warn: (message) => logger.warn(message),
  });
  const engine = createLimiter();
  if (store.appliedIndex > 0) engine.restore(store.records());
  const clock = createNodeClock(o.testClockFile);
  const electionTimeoutMs = o.tickMs * o.electionTicks;
  const decisionClock = new DecisionClock(o.id, clock.wallMs, clock.monoMs, 2 * electionTimeoutMs);
  decisionClock.witness(engine.lastTs);
  const metrics = createMetrics();
  const trace = o.traceEntries === true ? new EntryTraceWiring(o.id) : null;
  const selfHttp = o.advertiseHttp ?? o.http;
  const members = new MemberDirectory(o.peers, {
    id: o.id,
    http: selfHttp,
    raft: o.advertiseRaft ?? o.raft,
  });
  const savedMembers = loadDirectoryFile(o.data);
  if (savedMembers !== null) members.import(savedMembers);
  const saveMembers = (): void => saveDirectoryFile(o.data, members.export());
  const sm = new LimiterStateMachine(engine, store, {
    onAnnounce: (a) => members.setHttp(a.id, a.http),
    directory: members,
    ...snapshotTestHooks(o),
    snapshotEveryEntries: o.snapshotEveryEntries,
    snapshotPhase: snapshotPhase(o.id, Object.keys(o.peers)),
    ...(o.snapshotPagesMax === undefined ? {} : { snapshotPagesMax: o.snapshotPagesMax }),
    onTs: (ts) => decisionClock.witness(ts),
    onSnapshot: (index, ms, stats) => {
      metrics.snapshotDuration.observe(ms / 1000);
      trace?.snapshotWritten(ms, stats);
      const turnMsMax = Math.round(Math.max(stats.captureMs, stats.turnMsMax) * 10) / 10;
      logger.info(
        {
          index,
          ms: Math.round(ms),
          records: stats.records,
          turnMsMax,
          captureMs: Math.round(stats.captureMs * 10) / 10,
          commitMs: Math.round(stats.commitMs * 10) / 10,
          reason: stats.reason,
        },
        'snapshot written',
      );
    },
  });
  const raftBugs = new Set(o.testBugs.filter((b) => b !== 'lease-denial-without-lease'));
  const node = new RaftNode<ApplyOutcome>({
    id: o.id,
    dataDir: o.data,
    listen: parseAddress(o.raft),
    peers: o.peers,
    secret,
    stateMachine: sm,
    logger,
    tickMs: o.tickMs,
    electionTicks: o.electionTicks,
    requestTimeoutMs: o.requestTimeoutMs,
    logWrites: o.logWrites ?? 'sync',
    logStore: o.logStore ?? 'file',
    nowMs: clock.monoMs,
    peerClock: { readMs: clock.wallMs, onPeer: (from, ms) => decisionClock.observe(from, ms) },
    raft: {
      testBugs: raftBugs,
      snapshotTailEntries: o.snapshotTailEntries ?? 1024,
      commitBroadcast: o.commitBroadcast ?? 'eager',
    },
    transport: {
      ...(tls ? { socketFactory: tlsSocketFactory(tls) } : {}),
      advertiseMeta: metaOf({ http: selfHttp }),
      ...(o.advertiseRaft ? { advertise: o.advertiseRaft } : {}),
      onPeerMeta: (id, meta) => members.hear(id, meta),
    },
    onSync: (ms, entries) => {
      stalls.fsync(ms, entries);
      metrics.fsyncDuration.observe(ms / 1000);
      metrics.batchSize.observe(entries);
      trace?.endedNow('fsync', ms);
    },
    ...(trace ? { entryTracer: trace.recorder } : {}),
  });
  node.on('conf-change', (c: ConfChange) => {
    members.onConfChange(c);
    saveMembers();
    logger.info({ change: c.type, member: c.id }, 'membership change');
  });
  node.on('snapshot-installed', (meta: SnapshotMeta) => {
    // Members added in entries this node never saw: dial them at their replicated addresses.
    for (const id of [...meta.conf.voters, ...meta.conf.learners]) {
      const raft = members.raftOf(id);
      if (id !== o.id && raft !== null && !(id in o.peers)) node.setPeerAddress(id, raft);
    }
    saveMembers();
  });
  node.on('leader', () => metrics.leaderChanges.inc());
  const service = new ReplicatedService({
    id: o.id,
    node,
    engine,
    clock: decisionClock,
    members,
    requestTimeoutMs: o.requestTimeoutMs,
    leaseWithoutCheck: o.testBugs.includes('lease-denial-without-lease'),
    skipLeaderNoop: o.testBugs.includes('skip-leader-noop'),
    onWarn: (m) => logger.warn(m),
  });
  const app = buildApi(service, {
    ...(o.token !== undefined ? { token: o.token, protectOps: o.protectOps === true } : {}),
    ...(tls ? { tls } : {}),
    metrics,
    requestTimeoutMs: o.requestTimeoutMs,
    loggerInstance: logger,
    ...(trace ? { allowTracer: trace.allowTracer } : {}),
  });
  if (trace) {
    trace.register(app);
    logger.warn('test mode: recording per-entry stage times (GET /test/entry-trace)');
  }
  try {
    await node.start();
    dialSavedMembers(node, members, o);
    const http = parseAddress(o.http);
    await app.listen({ host: http.host, port: http.port });
  } catch (err) {
    // E.g. the HTTP port is taken: a Raft node left running would keep the process alive,
    // a member (even the leader) with no API.
    service.close();
    await app.close().catch(() => {});
    await node.stop().catch(() => {});
    store.close();
    clock.close();
    trace?.close();
    throw err;
  }
  metrics.onScrape = raftGauges(node, metrics);
  const gauges = setInterval(metrics.onScrape, 1000);
  gauges.unref();
  stalls.start();
  logger.info({ http: o.http, raft: o.raft, peers: o.peers, tls: tls !== null }, 'node started');
  if (o.advertiseHttp === undefined && /^(0\.0\.0\.0|\[::\]):/.test(o.http)) {
    logger.warn(
      { http: o.http },
      'the HTTP API binds every interface and tells other nodes to reach it there: set --advertise-http',
    );
  }
  let stopped = false;
  return {
    httpAddress: o.http,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(gauges);
      stalls.stop();
      service.close();
      await app.close();
      await node.stop();
      sm.persistSnapshot();
      store.close();
      clock.close();
      trace?.close();
      logger.info('node stopped');
    },
  };
}

/** Copies the node's Raft state into the gauges (and transport counters into counters). */
function raftGauges(node: RaftNode<ApplyOutcome>, metrics: DrlMetrics): () => void {
  let seen = { authFailures: 0, connects: 0 };
  return () => {
    const s = node.status();
    metrics.raftTerm.set(s.term);
    metrics.commitIndex.set(s.commit);
    metrics.appliedIndex.set(s.applied);
    metrics.proposalsInFlight.set(node.pendingCount());
    const t = node.transportStats();
    metrics.peerAuthFailures.inc(t.authFailures - seen.authFailures);
    metrics.peerConnects.inc(t.connects - seen.connects);
    seen = { authFailures: t.authFailures, connects: t.connects };
  };
}

/**
 * After a restart, dials the members of the recovered configuration whose addresses this node
 * learned earlier (members.json), unless --peers names them (the configured address wins).
 */
function dialSavedMembers(node: RaftNode<ApplyOutcome>, members: MemberDirectory, o: ServeOptions) {
  const { conf } = node.status();
  for (const id of [...conf.voters, ...conf.learners]) {
    const raft = members.raftOf(id);
    if (id !== o.id && raft !== null && !(id in o.peers)) node.setPeerAddress(id, raft);
  }
}

/** DRL_TEST_CRASH_IN_RESTORE=N (with --test-mode): die after N records of a snapshot install. */
function snapshotTestHooks(o: ServeOptions): { crashDuringRestoreAfterRecords?: number } {
  const raw = process.env.DRL_TEST_CRASH_IN_RESTORE;
  const n = Number(raw);
  if (!o.testMode || raw === undefined || raw === '' || !Number.isInteger(n) || n < 0) return {};
  return { crashDuringRestoreAfterRecords: n };
}

function readSecret(o: ServeOptions, logger: Logger): string | Uint8Array {
  if (o.clusterSecretFile === undefined) {
    logger.warn('no --cluster-secret-file: peers authenticate with a public default secret');
    return DEV_SECRET;
  }
  const secret = readFileSync(o.clusterSecretFile);
  if (secret.length < 16) {
    throw new DrlError(
      'invalid_argument',
      `${o.clusterSecretFile}: a cluster secret needs >= 16 bytes`,
    );
  }
  return secret;
}
