import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { NotLeaderError, RaftNode, type StateMachine } from '../../src/raft/driver/index.js';
import { type Entry, EntryType } from '../../src/raft/types.js';
import { waitFor } from './helpers.js';

const IDS = ['a', 'b', 'c'];

/** Records every applied Normal entry with data; returns how many it has applied so far. */
class RecordingMachine implements StateMachine<number> {
  readonly log: string[] = [];
  apply(entry: Entry): number {
    if (entry.type === EntryType.Normal && entry.data.length > 0) {
      this.log.push(Buffer.from(entry.data).toString());
    }
    return this.log.length;
  }
}

interface Member {
  node: RaftNode<number>;
  sm: RecordingMachine;
  address: string;
}

const root = mkdtempSync(join(tmpdir(), 'drl-raftnode-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const members = new Map<string, Member>();
const logger = pino({ level: 'silent' });

async function startMember(id: string): Promise<Member> {
  const sm = new RecordingMachine();
  const placeholder = Object.fromEntries(
    IDS.map((x) => [x, members.get(x)?.address ?? '127.0.0.1:1']),
  );
  const node = new RaftNode<number>({
    id,
    dataDir: join(root, id),
    listen: { host: '127.0.0.1', port: 0 },
    peers: placeholder,
    secret: 'node-test-secret',
    stateMachine: sm,
    logger,
    tickMs: 20,
    electionTicks: 10,
    requestTimeoutMs: 3000,
    transport: { reconnectMinMs: 10, reconnectMaxMs: 100 },
  });
  const bound = await node.start();
  const m = { node, sm, address: `127.0.0.1:${bound.port}` };
  members.set(id, m);
  for (const other of members.values()) {
    for (const [oid, om] of members) other.node.setPeerAddress(oid, om.address);
  }
  return m;
}

function running(): Member[] {
  return [...members.values()];
}

async function leaderOf(group: Member[]): Promise<Member> {
  let found: Member | undefined;
  await waitFor(
    () => {
      found = group.find((m) => m.node.status().role === 'leader');
      return !!found && group.every((m) => m.node.status().leader === found!.node.id);
    },
    10_000,
    'a leader everyone follows',
  );
  return found!;
}

t.teardown(async () => {
  for (const m of members.values()) await m.node.stop();
});

t.test('three nodes over loopback TCP', async (t) => {
  for (const id of IDS) await startMember(id);
  const leader = await leaderOf(running());
  t.ok(IDS.includes(leader.node.id), `leader ${leader.node.id}`);

  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => leader.node.propose(Buffer.from(`x${i}`))),
  );
  const indexes = results.map((r) => r.index);
  t.same(
    indexes,
    [...indexes].sort((x, y) => x - y),
    'indexes follow proposal order',
  );
  t.equal(new Set(indexes).size, 50);
  t.equal(results.at(-1)?.result, 50, 'the state machine result comes back');
  await waitFor(() => running().every((m) => m.sm.log.length === 50), 5000, 'replication');
  for (const m of running()) t.same(m.sm.log, leader.sm.log, `${m.node.id} applied the same log`);

  const follower = running().find((m) => m !== leader)!;
  const err = await follower.node.propose(Buffer.from('nope')).catch((e: unknown) => e);
  t.ok(err instanceof NotLeaderError);
  t.equal((err as NotLeaderError).leader, leader.node.id, 'not_leader names the leader');
  t.equal((err as NotLeaderError).code, 'not_leader');

  const readAt = await leader.node.readIndex();
  t.ok(readAt >= indexes.at(-1)!, 'read index covers every acknowledged write');
  await waitFor(() => leader.node.hasLease(), 5000, 'lease');

  // The leader stops; the other two elect a new one and keep committing.
  const oldId = leader.node.id;
  await leader.node.stop();
  members.delete(oldId);
  const next = await leaderOf(running());
  t.not(next.node.id, oldId);
  const more = await Promise.all(
    Array.from({ length: 20 }, (_, i) => next.node.propose(Buffer.from(`y${i}`))),
  );
  t.equal(more.length, 20);
  const expected = [...leader.sm.log, ...Array.from({ length: 20 }, (_, i) => `y${i}`)];
  await waitFor(() => running().every((m) => m.sm.log.length === 70), 5000, 'two-node commit');

  // The old leader restarts from its data dir alone and catches up.
  const back = await startMember(oldId);
  t.ok(back.node.status().lastIndex >= 50, 'log recovered from disk');
  await waitFor(() => back.sm.log.length === 70, 10_000, 'restarted node catches up');
  t.same(back.sm.log, expected);
  for (const m of running()) t.same(m.sm.log, expected);
  const addresses = back.node.peerAddresses();
  for (const m of running())
    t.equal(addresses[m.node.id], m.address, `${m.node.id} dialed where it listens`);
  const stats = back.node.transportStats();
  t.ok(stats.receivedMessages > 0);
});
