/**
 * npm run bench:raft:snapshot — snapshot figures with the real driver, transport (loopback TCP),
 * SQLite log and limiter state machine, two or three RaftNodes in this one process:
 * 1. a leader holding KEYS keys (default 1,000,000) with its log compacted; a fresh node is added
 *    as a learner: time until it has received, verified, staged and installed the snapshot
 *    (plus encode time and bytes);
 * 2. closed-loop commit throughput of the leader alone, then while another fresh learner
 *    catches up by snapshot (the issue asks for a drop of less than half).
 * Not in npm test: timings on a shared machine are noisy (printed with the load average).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type ApplyOutcome, LimiterStateMachine } from '../src/cli/serve/limiter-state-machine.js';
import { encodeCommand } from '../src/limiter/command-codec.js';
import { createLimiter } from '../src/limiter/index.js';
import type { AllowCommand } from '../src/limiter/types.js';
import { RaftNode } from '../src/raft/driver/raft-node.js';
import { LimiterSnapshotStore } from '../src/storage/limiter-snapshot-store.js';
import { openExclusiveDatabase } from '../src/storage/sqlite-open.js';

const KEYS = Number(process.env.KEYS ?? 1_000_000);
const PHASE_MS = Number(process.env.PHASE_MS ?? 4000);
const IN_FLIGHT = 256;
// All nodes share this process's event loop: a learner's install (decode + SQLite write) and
// the leader's snapshot encode both stall the leader here, so phase 2 is a lower bound.
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Member {
  node: RaftNode<ApplyOutcome>;
  sm: LimiterStateMachine;
  address: string;
}

async function member(root: string, id: string, peers: Record<string, string>): Promise<Member> {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  const store = new LimiterSnapshotStore(openExclusiveDatabase(join(dir, 'limiter-state.db')));
  const sm = new LimiterStateMachine(createLimiter(), store, { snapshotEveryEntries: 1e9 });
  const node = new RaftNode({
    id,
    dataDir: dir,
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    secret: 'bench-secret-bench-secret',
    stateMachine: sm,
    logger,
    raft: { snapshotTailEntries: 0 },
    requestTimeoutMs: 60_000,
  });
  const bound = await node.start();
  return { node, sm, address: `${bound.host}:${bound.port}` };
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let seq = 0;
function allow(key: string): Uint8Array {
  const c: AllowCommand = {
    type: 'allow',
    ts: Date.now() + seq++ * 0,
    key,
    cost: 1,
    limit: 10,
    windowMs: 3_600_000,
  };
  return encodeCommand(c);
}

/** Closed loop of IN_FLIGHT proposals for PHASE_MS or until `stop` says so; entries/s. */
async function throughput(leader: RaftNode<ApplyOutcome>, stop: () => boolean): Promise<number> {
  let done = 0;
  const start = performance.now();
  const end = start + PHASE_MS;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < end && !stop(); i++) {
      await leader.propose(allow(`t${w}-${i % 1000}`));
      done++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
  return (done / (performance.now() - start)) * 1000;
}

async function addLearner(a: Member, b: Member, id: string): Promise<number> {
  const start = performance.now();
  const installed = new Promise<void>((r) => b.node.once('snapshot-installed', () => r()));
  const context = Buffer.from(JSON.stringify({ raft: b.address }), 'utf8');
  for (;;) {
    try {
      await a.node.proposeConfChange({ type: 'addLearner', id, context });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await installed;
  return performance.now() - start;
}

async function main(): Promise<void> {
  const root = join(process.cwd(), 'bench', 'out', `raft-snapshot-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  console.log(`bench:raft:snapshot  ${KEYS} keys, data in ${root}; load average ${load()}`);
  const a = await member(root, 'a', { a: '127.0.0.1:0' });
  await waitFor('a to lead', () => a.node.status().role === 'leader', 10_000);
  await a.node.propose(allow('warm'));
  let t0 = performance.now();
  for (let i = 0; i < KEYS; i++)
    a.sm.engine.apply({
      type: 'allow',
      ts: Date.now(),
      key: `user-${i}`,
      cost: 1,
      limit: 10,
      windowMs: 3_600_000,
    } as AllowCommand);
  console.log(
    `filled the leader's engine with ${KEYS} keys in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  t0 = performance.now();
  const bytes = a.sm.snapshotData().length;
  console.log(
    `encode: ${bytes} bytes (${(bytes / KEYS).toFixed(1)} B/key) in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  a.sm.persistSnapshot();
  await a.node.propose(allow('after-snapshot'));
  await a.node.propose(allow('after-snapshot-2'));
  const b = await member(root, 'b', {});
  const installMs = await addLearner(a, b, 'b');
  await waitFor('b to catch up', () => b.node.status().applied >= a.node.status().commit, 60_000);
  console.log(
    `install on a fresh learner: ${installMs.toFixed(0)} ms from addLearner to snapshot installed ` +
      `(stream + CRC + staged file fsync + SQLite write of ${KEYS} keys); load average ${load()}`,
  );
  const alone = await throughput(a.node, () => false);
  console.log(
    `commit throughput, leader alone: ${alone.toFixed(0)} entries/s (${IN_FLIGHT} in flight)`,
  );
  a.sm.persistSnapshot();
  await a.node.propose(allow('compact-again'));
  const c = await member(root, 'c', {});
  let caughtUp = false;
  const catchUp = addLearner(a, c, 'c').then(() => {
    caughtUp = true;
  });
  const during = await throughput(a.node, () => caughtUp);
  await catchUp;
  console.log(
    `commit throughput while learner c catches up (${KEYS}-key snapshot): ${during.toFixed(0)} entries/s ` +
      `= ${((during / alone) * 100).toFixed(0)} % of alone; load average ${load()}`,
  );
  await Promise.all([a.node.stop(), b.node.stop(), c.node.stop()]);
  rmSync(root, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
