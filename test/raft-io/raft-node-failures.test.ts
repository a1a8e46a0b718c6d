import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { DrlError } from '../../src/errors.js';
import { RaftNode } from '../../src/raft/driver/index.js';
import { EntryType } from '../../src/raft/types.js';
import { waitFor } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'drl-raftnode-fail-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

function makeNode(
  id: string,
  peers: Record<string, string>,
  timeoutMs = 400,
  leaderSendsBeforePersist = true,
): RaftNode<number> {
  let applied = 0;
  return new RaftNode<number>({
    id,
    dataDir: join(root, id),
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    secret: 'failure-test-secret',
    stateMachine: {
      apply: (e) => (e.type === EntryType.Normal && e.data.length > 0 ? ++applied : applied),
    },
    logger: pino({ level: 'silent' }),
    tickMs: 10,
    electionTicks: 10,
    requestTimeoutMs: timeoutMs,
    transport: { reconnectMinMs: 10, reconnectMaxMs: 50 },
    leaderSendsBeforePersist,
  });
}

t.test('a single-node group commits alone and survives a restart', async (t) => {
  const node = makeNode('solo', { solo: '127.0.0.1:1' });
  await node.start();
  await waitFor(() => node.status().role === 'leader', 5000, 'self-election');
  const first = await node.propose(Buffer.from('one'));
  const second = await node.propose(Buffer.from('two'));
  t.equal(second.index, first.index + 1);
  t.equal(second.result, 2);
  t.ok(node.hasLease(), 'a single voter always holds the lease');
  t.ok((await node.readIndex()) >= second.index);
  await node.stop();
  const again = makeNode('solo', { solo: '127.0.0.1:1' });
  t.equal(again.status().lastIndex, second.index, 'log recovered');
  await again.start();
  await waitFor(() => again.status().applied >= second.index, 5000, 'replay from disk');
  await again.stop();
  await t.rejects(again.propose(Buffer.from('late')), { code: 'closed' });
});

t.test('a leader that loses its quorum fails pending proposals as unavailable', async (t) => {
  const ids = ['u', 'v', 'w'];
  const placeholder = Object.fromEntries(ids.map((id) => [id, '127.0.0.1:1']));
  // Strict persist-then-send for every message (the other tests use the leader's early send).
  const nodes = ids.map((id) => makeNode(id, placeholder, 300, false));
  const ports = await Promise.all(nodes.map((n) => n.start()));
  for (const n of nodes) {
    for (const [i, id] of ids.entries()) n.setPeerAddress(id, `127.0.0.1:${ports[i]!.port}`);
  }
  await waitFor(() => nodes.some((n) => n.status().role === 'leader'), 10_000, 'leader');
  const leader = nodes.find((n) => n.status().role === 'leader')!;
  await leader.propose(Buffer.from('ok'));
  for (const n of nodes) if (n !== leader) await n.stop();
  const err = await leader.propose(Buffer.from('stuck')).catch((e: unknown) => e);
  t.ok(err instanceof DrlError);
  t.ok(['unavailable', 'not_leader'].includes((err as DrlError).code), (err as DrlError).code);
  t.notOk(leader.hasLease(), 'no lease without a quorum');
  const pending = leader.propose(Buffer.from('at-stop')).catch((e: unknown) => e);
  await leader.stop();
  const stopped = await pending;
  t.ok(stopped instanceof DrlError, 'stop settles what was pending');
});

t.test('without a quorum a follower refuses proposals and reads with not_leader', async (t) => {
  // Three members, only one running: it can never win an election nor commit.
  const peers = { p: '127.0.0.1:1', q: '127.0.0.1:2', r: '127.0.0.1:3' };
  const lonely = makeNode('p', peers);
  await lonely.start();
  const err = await lonely.propose(Buffer.from('x')).catch((e: unknown) => e);
  t.ok(err instanceof DrlError);
  t.equal((err as DrlError).code, 'not_leader', 'no leader: refused at once');
  t.equal(lonely.status().leader, null);
  await t.rejects(lonely.readIndex(), { code: 'not_leader' });
  await lonely.stop();
});

t.test('start fails cleanly when the raft port is taken', async (t) => {
  const first = makeNode('busy', { busy: '127.0.0.1:1' });
  const { port } = await first.start();
  const second = new RaftNode<number>({
    id: 'busy2',
    dataDir: join(root, 'busy2'),
    listen: { host: '127.0.0.1', port },
    peers: { busy2: '127.0.0.1:1' },
    secret: 'failure-test-secret',
    stateMachine: { apply: () => 0 },
    logger: pino({ level: 'silent' }),
  });
  await t.rejects(second.start(), { code: 'EADDRINUSE' });
  await t.rejects(second.propose(Buffer.from('x')), { code: 'closed' });
  await first.stop();
});
