// applyDurableFirst on a real RaftNode (SQLite log, real fsync): committed entries that are
// already durable are answered before the next fsync, so under a closed loop an answer waits
// for its own entry's fsync only; with the option off it waits for one more.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { RaftNode } from '../../src/raft/driver/index.js';
import { fsyncCountingGroup, leaderFsyncsWaited, mean } from './fsync-counting-group.js';
import { waitFor } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'drl-apply-first-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const PER_MS = 2;
const ANSWERS = 2000;

/** Leader fsyncs each answer waited for on a 3-node group over loopback. */
async function fsyncsWaited(dir: string, applyDurableFirst: boolean): Promise<number[]> {
  const g = await fsyncCountingGroup(join(root, dir), 'apply-first-secret', {
    tickMs: 20,
    electionTicks: 20,
    applyDurableFirst,
  });
  try {
    return await leaderFsyncsWaited(g, ANSWERS, PER_MS);
  } finally {
    await Promise.all(g.nodes.map((n) => n.stop()));
  }
}

t.test('answers skip the next batch fsync when durable entries are applied first', async (t) => {
  const on = await fsyncsWaited('on', true);
  const off = await fsyncsWaited('off', false);
  // Off, an entry committed by the followers' acks is applied only after the fsync of the
  // proposals that arrived meanwhile (about one fsync more per answer); on, before it.
  t.ok(
    mean(on) < mean(off),
    `leader fsyncs waited per answer: on ${mean(on).toFixed(2)} < off ${mean(off).toFixed(2)}`,
  );
});

t.test('a restart after apply-first resumes at the applied index', async (t) => {
  let appliedCount = 0;
  const make = (): RaftNode<number> =>
    new RaftNode<number>({
      id: 'solo',
      dataDir: join(root, 'restart'),
      listen: { host: '127.0.0.1', port: 0 },
      peers: { solo: '127.0.0.1:1' },
      secret: 'apply-first-secret',
      // A durable state machine at index `appliedCount` (as the SQLite limiter reports it).
      stateMachine: { apply: () => ++appliedCount, appliedIndex: () => appliedCount },
      logger: pino({ level: 'silent' }),
      tickMs: 10,
      electionTicks: 10,
    });
  const node = make();
  await node.start();
  await waitFor(() => node.isLeader(), 5000, 'self-election');
  const last = await Promise.all(
    Array.from({ length: 50 }, (_, i) => node.propose(Buffer.from(`${i}`))),
  );
  await node.stop();
  const before = appliedCount;
  const again = make();
  t.equal(again.appliedIndex(), before, 'the state machine index is taken as applied');
  t.ok(again.commitIndex() >= before, 'commit raised to the applied index, not re-applied');
  await again.start();
  await waitFor(() => again.isLeader(), 5000, 'self-election after restart');
  const next = await again.propose(Buffer.from('after'));
  t.ok(next.index > last.at(-1)!.index);
  t.equal(appliedCount, before + 2, 'only the new no-op and the new entry were applied');
  await again.stop();
});
