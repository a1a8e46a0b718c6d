import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckReport, checkHistory, summaryLine } from '../checker/check-history.js';
import { Rng } from '../gen/rng.js';
import { HistoryWriter } from '../history/jsonl.js';
import { makeClockUs, Recorder } from '../history/recorder.js';
import { renderHtmlReport } from '../report/html-report.js';
import { defaultWorkload, runWorker, type WorkloadOptions } from './client-workers.js';
import { Cluster, type ClusterStatus } from './cluster.js';
import { runSchedule } from './nemesis-executor.js';
import { generateSchedule, type NemesisKind, scheduleSkewBoundMs } from './schedule.js';

/**
 * One end-to-end run: start the cluster behind the proxy mesh, check the proxies really cut
 * traffic, run clients and the nemesis schedule, heal, let the cluster settle, then check the
 * history and write history.jsonl + report.html into outDir.
 */
export interface RunOptions {
  cliPath: string;
  outDir: string;
  seed: number;
  timeMs: number;
  nemeses: readonly NemesisKind[];
  nodes: number;
  testBugs?: string[];
  /** Extra node flags (see ClusterOptions.nodeArgs). */
  nodeArgs?: string[];
  /** See ClusterOptions.snapshotEvery. */
  snapshotEvery?: number;
  workload?: Partial<WorkloadOptions>;
  /** Mean healthy gap and fault length of the schedule (defaults 5 s and 8 s). */
  scheduleGapMs?: number;
  scheduleFaultMs?: number;
  /**
   * How far the service's decision clock may stray from real time with no clock fault: it is
   * the median of the voters' clocks as last reported, so it lags real time by up to one
   * message delay (event-loop lag on a loaded machine: ~100 ms seen). Added to the schedule's
   * clock-fault bound for the real-time admission check only. Default 150.
   */
  clockSlackMs?: number;
  /** Healthy tail after the schedule, so every fault is recovered from before the end. */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface RunResult {
  report: CheckReport;
  summary: string;
  historyPath: string;
  reportPath: string;
  /** Every node process the run started (all exited when runTest returns). */
  nodePids: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Cuts one link and checks its byte counter stops while the cluster keeps talking. The link is
 * leader -> follower (followers only answer the leader, so a follower -> follower link is
 * idle); a leader change while measuring is retried with the new leader.
 */
export async function verifyLinkCut(cluster: Cluster, quietMs = 1500, attempts = 5): Promise<void> {
  let idle = '';
  for (let i = 0; i < attempts; i++) {
    const leader = await cluster.leader();
    const a = cluster.nodes.find((n) => n.id === leader) ?? cluster.nodes[0];
    const b = cluster.nodes.find((n) => n !== a);
    if (a === undefined || b === undefined) return;
    const link = cluster.mesh.link(a.id, b.id);
    const before = link.bytesForward;
    await sleep(quietMs);
    if (link.bytesForward === before) {
      idle = `${a.id} -> ${b.id}`;
      continue;
    }
    link.setCut(true);
    const atCut = link.bytesForward;
    await sleep(quietMs);
    const leaked = link.bytesForward - atCut;
    link.heal();
    if (leaked > 0) throw new Error(`${leaked} bytes crossed the cut link ${a.id} -> ${b.id}`);
    return;
  }
  throw new Error(`no traffic on ${idle}: peers do not dial through the proxies`);
}

function pollRoles(cluster: Cluster, recorder: Recorder, deadlineMs: number): Promise<void> {
  const last = new Map<string, string>();
  const loop = async (): Promise<void> => {
    while (Date.now() < deadlineMs) {
      await Promise.all(
        cluster.nodes.map(async (n) => {
          const s: ClusterStatus | null = await cluster.status(n.id, 300);
          const role = s === null ? 'down' : s.role;
          if (last.get(n.id) === role) return;
          last.set(n.id, role);
          recorder.push({
            kind: 'node',
            node: n.id,
            role,
            ...(s ? { term: s.term } : {}),
            timeUs: recorder.now(),
          });
        }),
      );
      await sleep(500);
    }
  };
  return loop();
}

export async function runTest(options: RunOptions): Promise<RunResult> {
  if (!existsSync(options.cliPath))
    throw new Error(`${options.cliPath} not found: run npm run build`);
  mkdirSync(options.outDir, { recursive: true });
  const log = options.log ?? (() => undefined);
  const historyPath = join(options.outDir, 'history.jsonl');
  const writer = new HistoryWriter(historyPath);
  const recorder = new Recorder(makeClockUs(), (line) => writer.write(line));
  const cluster = await Cluster.start({
    nodes: options.nodes,
    baseDir: join(options.outDir, 'nodes'),
    cliPath: options.cliPath,
    ...(options.testBugs ? { testBugs: options.testBugs } : {}),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    ...(options.snapshotEvery ? { snapshotEvery: options.snapshotEvery } : {}),
    onLog: (node, line) => log(`[${node}] ${line}`),
    onCrash: (c) => {
      const how = c.signal === null ? `exit ${c.code}` : `signal ${c.signal}`;
      recorder.push({
        kind: 'node',
        node: c.node,
        role: 'crashed',
        detail: `${how}: ${c.lastLine}`.slice(0, 500),
        timeUs: recorder.now(),
      });
    },
  });
  const schedule = generateSchedule({
    seed: options.seed,
    timeMs: options.timeMs,
    kinds: options.nemeses,
    ...(options.scheduleGapMs ? { gapMs: options.scheduleGapMs } : {}),
    ...(options.scheduleFaultMs ? { faultMs: options.scheduleFaultMs } : {}),
  });
  try {
    await cluster.waitForLeader(20_000);
    await verifyLinkCut(cluster);
    log(`proxies verified; ${schedule.length} faults scheduled`);
    const startMs = Date.now();
    const deadlineMs = startMs + options.timeMs + (options.settleMs ?? 5000);
    const rng = new Rng(options.seed);
    const workload = { ...defaultWorkload, ...options.workload };
    const workers = Array.from({ length: workload.workers }, (_, i) =>
      runWorker(cluster, recorder, new Rng(rng.int(1, 2 ** 31)), workload, deadlineMs, i),
    );
    await Promise.all([
      ...workers,
      runSchedule(cluster, recorder, schedule, startMs, startMs + options.timeMs),
      pollRoles(cluster, recorder, deadlineMs),
    ]);
  } finally {
    await cluster.stop();
    await writer.close();
  }
  const skewBoundMs = scheduleSkewBoundMs(schedule) + (options.clockSlackMs ?? 150);
  const report = checkHistory(recorder.lines, { skewBoundMs });
  const reportPath = join(options.outDir, 'report.html');
  writeFileSync(
    reportPath,
    renderHtmlReport(recorder.lines, report, `jepsen-lite seed ${options.seed}`),
  );
  return {
    report,
    summary: summaryLine(report),
    historyPath,
    reportPath,
    nodePids: cluster.spawnedPids,
  };
}
