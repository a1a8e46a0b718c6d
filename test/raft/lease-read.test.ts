// Leader leases and ReadIndex (Raft dissertation §6.4).
import t from 'tap';
import { MessageType } from '../../src/raft/types.js';
import { boot, Network } from './helpers/network.js';

// electionTicks 10, tickMs 100, drift 0.01: lease = 9 ticks * 100 ms * 0.99 = 891 ms.
const leaseMs = 891;

function leaderWithLease(bugs: string[] = []) {
  const net = new Network(['a', 'b', 'c'], { checkQuorum: true, testBugs: new Set(bugs) });
  net.tickAll(10);
  net.elect('a');
  return net;
}

t.test('lease read: granted after a quorum acks a heartbeat round', async (t) => {
  const net = leaderWithLease();
  const a = net.core('a');
  net.clock.nowMs = 1000;
  a.tick();
  net.stabilize();
  t.ok(a.hasLease(), 'lease held');
  a.readIndex(7);
  const out = net.takeMessages();
  t.same(net.node('a').readStates, [{ requestId: 7, index: a.status().commit }], 'served at once');
  t.same(out, [], 'no heartbeat round needed for a lease read');
});

t.test('lease read: expires when no quorum acks arrive', async (t) => {
  const net = leaderWithLease();
  const a = net.core('a');
  net.clock.nowMs = 1000;
  a.tick();
  net.stabilize();
  net.isolate('a');
  net.clock.nowMs = 1000 + leaseMs - 1;
  t.ok(a.hasLease(), 'still inside the lease');
  net.clock.nowMs = 1000 + leaseMs;
  t.notOk(a.hasLease(), 'expired at sendTime + lease');
  a.tick();
  net.stabilize();
  t.notOk(a.hasLease(), 'heartbeats nobody answers do not extend it');
});

t.test('lease read: refused while the new leader has not committed its no-op', async (t) => {
  const net = new Network(['a', 'b', 'c'], { checkQuorum: true });
  net.tickAll(10);
  net.drop = (m) => m.type === MessageType.AppResp;
  net.elect('a');
  const a = net.core('a');
  a.tick();
  net.stabilize();
  t.equal(a.status().commit, boot(3), 'no-op not committed');
  t.notOk(a.hasLease(), 'no lease before the no-op commits, though heartbeats were acked');
  a.readIndex(1);
  net.stabilize();
  t.same(net.node('a').readStates, [], 'read waits');
  net.heal();
  a.tick();
  net.stabilize();
  t.equal(a.status().commit, boot(3) + 1);
  t.ok(a.hasLease());
  t.same(
    net.node('a').readStates,
    [{ requestId: 1, index: boot(3) + 1 }],
    'the waiting read is served',
  );
});

t.test(
  "test bug 'skip-leader-noop': the new leader serves reads before committing anything of its term",
  async (t) => {
    const net = new Network(['a', 'b', 'c'], {
      checkQuorum: true,
      testBugs: new Set(['skip-leader-noop']),
    });
    net.tickAll(10);
    net.elect('a');
    const a = net.core('a');
    t.equal(a.status().lastIndex, boot(3), 'no no-op appended');
    a.tick();
    net.stabilize();
    t.ok(a.hasLease(), 'lease claimed with no entry of its term committed');
  },
);

t.test("test bug 'lease-without-quorum': the leader claims a lease with no acks", async (t) => {
  for (const [bugs, want] of [
    [[], false],
    [['lease-without-quorum'], true],
  ] as const) {
    const net = leaderWithLease([...bugs]);
    const a = net.core('a');
    net.isolate('a');
    net.clock.nowMs = 5000;
    a.tick();
    net.stabilize();
    t.equal(a.hasLease(), want, `bugs=[${bugs.join()}]: hasLease ${want} while isolated`);
  }
});

t.test(
  'ReadIndex without a lease: answered after a quorum acks a round sent after the request',
  async (t) => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: false });
    net.elect('a');
    const a = net.core('a');
    t.notOk(a.hasLease(), 'no leases without checkQuorum (no stickiness)');
    const commit = a.status().commit;
    a.readIndex(42);
    const out = net.takeMessages();
    const hbs = out.filter((m) => m.type === MessageType.Heartbeat);
    t.equal(hbs.length, 2, 'a heartbeat round is broadcast for the read');
    t.same(net.node('a').readStates, [], 'not yet answered');
    net.deliver(hbs[0]!);
    for (const m of net.takeMessages()) net.deliver(m);
    net.processReadies();
    t.same(net.node('a').readStates, [{ requestId: 42, index: commit }], 'one ack + self = quorum');
  },
);

t.test('ReadIndex: an isolated leader never answers', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  net.isolate('a');
  net.core('a').readIndex(1);
  for (let i = 0; i < 5; i++) {
    net.core('a').tick();
    net.stabilize();
  }
  t.same(net.node('a').readStates, []);
});

t.test('ReadIndex: several reads share one heartbeat round', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  net.takeMessages();
  const a = net.core('a');
  for (let i = 1; i <= 5; i++) a.readIndex(i);
  const hbs = net.takeMessages().filter((m) => m.type === MessageType.Heartbeat);
  t.equal(hbs.length, 2);
  for (const m of hbs) net.deliver(m);
  net.stabilize();
  t.same(
    net.node('a').readStates.map((r) => r.requestId),
    [1, 2, 3, 4, 5],
  );
});

t.test('ReadIndex and lease on a single-node group are immediate; followers refuse', async (t) => {
  const net = new Network(['a']);
  net.elect('a');
  net.processReadies();
  t.ok(net.core('a').hasLease());
  net.core('a').readIndex(3);
  net.processReadies();
  t.same(net.node('a').readStates, [{ requestId: 3, index: boot(1) + 1 }]);
  const net3 = new Network(['a', 'b', 'c']);
  net3.elect('a');
  t.throws(() => net3.core('b').readIndex(1), { code: 'not_leader' });
  t.notOk(net3.core('b').hasLease());
});

t.test(
  'lease read: a leader that sent TimeoutNow claims no lease for the rest of its term',
  async (t) => {
    // The TimeoutNow may be delayed past the transfer's abort; its target then wins a forced
    // election that ignores lease stickiness (sim finding, seed 11698).
    const net = leaderWithLease();
    const a = net.core('a');
    net.clock.nowMs = 1000;
    a.tick();
    net.stabilize();
    t.ok(a.hasLease(), 'lease held before the transfer');
    net.drop = (m) => m.type === MessageType.TimeoutNow;
    a.transferLeader('b');
    net.stabilize();
    net.heal();
    for (let i = 0; i < 12; i++) {
      net.clock.nowMs += 100;
      a.tick();
      net.stabilize();
    }
    t.equal(a.status().role, 'leader', 'the transfer aborted; a still leads');
    t.notOk(a.hasLease(), 'no lease: the lost TimeoutNow could still arrive');
    a.readIndex(9);
    const before = net.node('a').readStates.length;
    a.tick();
    net.stabilize();
    t.ok(net.node('a').readStates.length > before, 'reads still served by ReadIndex');
  },
);
