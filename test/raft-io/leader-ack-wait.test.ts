// leaderAckWaitMs on a real 3-node group (SQLite log, real fsync): the leader holds its next
// full Ready until the previous batch is committed, so a follower's ack is not stepped only
// after the next fsync; and the hold is bounded: with no follower answering, later proposals
// are still written after the wait.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  type FsyncCountingGroup,
  fsyncCountingGroup,
  leaderFsyncsWaited,
  mean,
} from './fsync-counting-group.js';
import { waitFor } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'drl-ack-wait-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

function group(dir: string, leaderAckWaitMs: number): Promise<FsyncCountingGroup> {
  return fsyncCountingGroup(join(root, dir), 'ack-wait-secret', {
    tickMs: 50,
    electionTicks: 40,
    leaderAckWaitMs,
  });
}

/** Leader fsyncs each answer waited for, under an offered load of 2 proposals per ms. */
async function fsyncsWaited(dir: string, leaderAckWaitMs: number): Promise<number[]> {
  const g = await group(dir, leaderAckWaitMs);
  try {
    return await leaderFsyncsWaited(g, 2000, 2);
  } finally {
    await Promise.all(g.nodes.map((n) => n.stop()));
  }
}

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
