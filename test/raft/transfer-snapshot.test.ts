// Leadership transfer (TimeoutNow, dissertation §3.10) and snapshot sending/compaction.
import t from 'tap';
import { MemoryLogView, newMessage } from '../../src/raft/core/index.js';
import { MessageType, type SnapshotMeta } from '../../src/raft/types.js';
import { baseConfig, data, Network } from './helpers/network.js';

t.test(
  'transferLeader: the target catches up, gets TimeoutNow and wins at a higher term',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    const term = net.core('a').status().term;
    net.core('a').transferLeader('b');
    net.stabilize();
    t.equal(net.core('b').status().role, 'leader');
    t.equal(net.core('b').status().term, term + 1);
    t.equal(net.core('a').status().role, 'follower');
    t.ok(net.delivered.some((m) => m.type === MessageType.TimeoutNow && m.to === 'b'));
  },
);

t.test(
  'transferLeader to a lagging target: catch up first, refuse proposals meanwhile',
  async (t) => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: true });
    net.tickAll(10);
    net.elect('a');
    const a = net.core('a');
    net.drop = (m) => m.to === 'b';
    a.propose(data('x'));
    net.stabilize();
    a.tick();
    net.stabilize();
    t.ok(a.hasLease());
    a.transferLeader('b');
    t.notOk(
      a.hasLease(),
      'the lease ends when the transfer starts (the target ignores stickiness)',
    );
    t.throws(() => a.propose(data('y')), { code: 'not_leader' });
    t.notOk(
      net.takeMessages().some((m) => m.type === MessageType.TimeoutNow),
      'no TimeoutNow before b matches',
    );
    net.heal();
    a.tick();
    net.stabilize();
    t.equal(net.core('b').status().role, 'leader');
  },
);

t.test(
  'transferLeader aborts after an election timeout if the target never catches up',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    const a = net.core('a');
    net.isolate('b');
    a.transferLeader('b');
    t.throws(() => a.propose(data('y')), { code: 'not_leader' });
    for (let i = 0; i < 10; i++) {
      a.tick();
      net.stabilize();
    }
    t.equal(a.status().role, 'leader');
    t.doesNotThrow(() => a.propose(data('z')), 'accepting proposals again');
    t.throws(() => a.transferLeader('zz'), { code: 'invalid_argument' });
    t.throws(() => net.core('c').transferLeader('a'), { code: 'not_leader' });
  },
);

/** Delivers each pending snapshot like a driver would: stream (instant), step, report ok. */
function deliverSnapshots(net: Network, leader: string): SnapshotMeta[] {
  const sent: SnapshotMeta[] = [];
  const node = net.node(leader);
  const sends = node.snapshotSends.splice(0);
  for (const s of sends) {
    sent.push(s.meta);
    const chunk = { meta: s.meta, offset: 0, data: new Uint8Array(0), done: true, checksum: 0 };
    const term = node.core.status().term;
    net.deliver(newMessage(MessageType.Snap, leader, s.to, term, { snapshot: chunk }));
    node.core.reportSnapshot(s.to, true);
  }
  return sent;
}

t.test('a follower that needs compacted entries gets a snapshot through the driver', async (t) => {
  const net = new Network(['a', 'b', 'c'], { snapshotTailEntries: 0 });
  net.add(baseConfig('d', [], { snapshotTailEntries: 0 }), new MemoryLogView(), 5);
  net.elect('a');
  const a = net.core('a');
  for (let i = 0; i < 5; i++) a.propose(data(`e${i}`));
  net.stabilize();
  const applied = a.status().applied;
  a.snapshotTaken(applied);
  a.proposeConfChange({ type: 'addLearner', id: 'd' });
  net.stabilize();
  t.equal(net.node('a').snapshotSends.length, 1, 'one snapshot send requested');
  t.equal(net.node('a').snapshotSends[0]?.to, 'd');
  const [meta] = deliverSnapshots(net, 'a');
  t.equal(meta?.index, applied);
  t.same(meta?.conf.voters.sort(), ['a', 'b', 'c'], 'the snapshot carries the configuration');
  a.tick();
  net.stabilize();
  const dReady = net.node('d').readies.find((r) => r.snapshot !== null);
  t.equal(dReady?.snapshot?.index, applied, 'd was told to persist and install it');
  t.equal(net.core('d').status().lastIndex, a.status().lastIndex, 'then replicated the rest');
  t.same(net.core('d').status().conf.learners, ['d']);
  t.equal(net.core('d').status().role, 'learner');
});

t.test('a failed snapshot send is retried after the next heartbeat ack', async (t) => {
  const net3 = new Network(['a', 'b', 'c'], { snapshotTailEntries: 0 });
  net3.elect('a');
  net3.isolate('c');
  const a3 = net3.core('a');
  for (let i = 0; i < 3; i++) a3.propose(data('x'));
  net3.stabilize();
  a3.snapshotTaken(a3.status().applied);
  net3.heal();
  a3.tick();
  net3.stabilize();
  t.equal(net3.node('a').snapshotSends.length, 1);
  net3.node('a').snapshotSends.length = 0;
  a3.reportSnapshot('c', false);
  a3.tick();
  net3.stabilize();
  t.equal(net3.node('a').snapshotSends.length, 1, 'asked again');
  deliverSnapshots(net3, 'a');
  a3.tick();
  net3.stabilize();
  t.equal(net3.core('c').status().commit, a3.status().commit, 'c caught up');
});

t.test(
  'a stale snapshot is not installed; snapshotTaken never compacts past applied',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    net.core('a').propose(data('x'));
    net.stabilize();
    const b = net.core('b');
    const meta = { index: 2, term: 1, conf: { voters: ['a', 'b', 'c'], learners: [] } };
    const chunk = { meta, offset: 0, data: new Uint8Array(0), done: true, checksum: 0 };
    b.step(newMessage(MessageType.Snap, 'a', 'b', b.status().term, { snapshot: chunk }));
    const rd = b.ready();
    t.equal(rd.snapshot, null, 'older than commit: discard the staged snapshot');
    t.ok(rd.messages.some((m) => m.type === MessageType.AppResp && m.index === b.status().commit));
    b.advance(rd);
    t.throws(() => net.core('a').snapshotTaken(net.core('a').status().applied + 1));
  },
);

t.test(
  'compaction keeps snapshotTailEntries so slightly slow followers need no snapshot',
  async (t) => {
    const net = new Network(['a', 'b', 'c'], { snapshotTailEntries: 100 });
    net.elect('a');
    net.isolate('c');
    const a = net.core('a');
    for (let i = 0; i < 20; i++) a.propose(data('x'));
    net.stabilize();
    a.snapshotTaken(a.status().applied);
    net.heal();
    a.tick();
    net.stabilize();
    t.equal(net.node('a').snapshotSends.length, 0, 'served from the kept tail');
    t.equal(net.core('c').status().commit, a.status().commit);
  },
);

t.test(
  'snapshotMeta: null before any snapshot, then the latest taken with its configuration',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    const a = net.core('a');
    t.equal(a.snapshotMeta(), null);
    a.propose(data('x'));
    net.stabilize();
    const applied = a.status().applied;
    a.snapshotTaken(applied);
    const meta = a.snapshotMeta();
    t.equal(meta?.index, applied);
    t.equal(meta?.term, a.status().term);
    t.same(meta?.conf.voters.sort(), ['a', 'b', 'c']);
    meta?.conf.voters.push('z');
    t.same(a.snapshotMeta()?.conf.voters.sort(), ['a', 'b', 'c'], 'a copy, not the live state');
  },
);
