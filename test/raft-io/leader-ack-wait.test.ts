// leaderAckWaitMs on a real 3-node group (SQLite log, real fsync): the leader holds its next
// full Ready until the previous batch is committed, so a follower's ack is not stepped only
// after the next fsync; and the hold is bounded: with no follower answering, later proposals
// are still written after the wait.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { RaftNode } from '../../src/raft/driver/index.js';
import { waitFor } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'drl-ack-wait-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

async function group(
  dir: string,
  leaderAckWaitMs: number,
): Promise<{ nodes: RaftNode<number>[]; syncs: Record<string, number> }> {
  const ids = ['a', 'b', 'c'];
  const syncs: Record<string, number> = { a: 0, b: 0, c: 0 };
  const placeholder = Object.fromEntries(ids.map((id) => [id, '127.0.0.1:1']));
  const nodes = ids.map((id) => {
    let appliedCount = 0;
    return new RaftNode<number>({
      id,
      dataDir: join(root, dir, id),
      listen: { host: '127.0.0.1', port: 0 },
      peers: placeholder,
      secret: 'ack-wait-secret',
      stateMachine: { apply: () => ++appliedCount },
      logger: pino({ level: 'silent' }),
      tickMs: 50,
      electionTicks: 40,
      requestTimeoutMs: 20_000,
      leaderAckWaitMs,
      onSync: () => {
        syncs[id]!++;
      },
    });
  });
  const ports = await Promise.all(nodes.map((n) => n.start()));
  for (const n of nodes) {
    for (const [i, id] of ids.entries()) n.setPeerAddress(id, `127.0.0.1:${ports[i]!.port}`);
  }
  await waitFor(() => nodes.some((n) => n.isLeader()), 10_000, 'leader');
  return { nodes, syncs };
}

/** Leader fsyncs each answer waited for, under an offered load of 2 proposals per ms. */
async function fsyncsWaited(dir: string, leaderAckWaitMs: number): Promise<number[]> {
  const { nodes, syncs } = await group(dir, leaderAckWaitMs);
  try {
    const leader = nodes.find((n) => n.isLeader())!;
    await leader.propose(Buffer.from('warm-up'));
    const waited: number[] = [];
    const total = 2000;
    await new Promise<void>((resolve, reject) => {
      let issued = 0;
      const timer = setInterval(() => {
        for (let i = 0; i < 2 && issued < total; i++) {
          issued++;
          const at = syncs[leader.id]!;
          leader.propose(Buffer.from(`e${issued}`)).then(() => {
            waited.push(syncs[leader.id]! - at);
            if (waited.length === total) resolve();
          }, reject);
        }
        if (issued >= total) clearInterval(timer);
      }, 1);
    });
    t.ok(leader.appliedIndex() <= leader.commitIndex(), 'applied <= committed');
    return waited;
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

t.test('answers wait for fewer leader fsyncs when the next Ready waits for acks', async (t) => {
  // A generous wait: the acks (a follower's fsync away) nearly always end it.
  const on = await fsyncsWaited('on', 50);
  const off = await fsyncsWaited('off', 0);
  t.ok(
    mean(on) < mean(off),
    `leader fsyncs waited per answer: wait ${mean(on).toFixed(2)} < none ${mean(off).toFixed(2)}`,
  );
});

t.test(
  'the wait is bounded: with no follower answering, later batches are still written',
  async (t) => {
    const { nodes, syncs } = await group('bounded', 200);
    const leader = nodes.find((n) => n.isLeader())!;
    const followers = nodes.filter((n) => n !== leader);
    try {
      await leader.propose(Buffer.from('warm-up'));
      await Promise.all(followers.map((f) => f.stop()));
      const before = syncs[leader.id]!;
      const lastBefore = leader.lastIndex();
      // First batch: written, then held for acks that never come; the second arrives during the
      // hold and must still be written once it runs out (neither commits: no quorum).
      const a = leader.propose(Buffer.from('a')).catch(() => undefined);
      await waitFor(() => syncs[leader.id]! > before, 5000, 'first batch written');
      const b = leader.propose(Buffer.from('b')).catch(() => undefined);
      await waitFor(
        () => syncs[leader.id]! > before + 1,
        5000,
        'second batch written after the hold',
      );
      t.equal(leader.lastIndex(), lastBefore + 2, 'both proposals in the log');
      t.ok(leader.commitIndex() <= lastBefore, 'nothing committed without a follower');
      await leader.stop();
      await Promise.all([a, b]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
);
