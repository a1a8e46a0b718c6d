// Batching and pipelining with bounded inflights (etcd's tracker/inflights, progress states).
import t from 'tap';
import { Inflights } from '../../src/raft/core/inflights.js';
import { MessageType } from '../../src/raft/types.js';
import { boot, data, Network } from './helpers/network.js';

t.test('batching: proposals made between Readies travel in one App per follower', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  const a = net.core('a');
  for (let i = 0; i < 100; i++) a.propose(data(`p${i}`));
  const apps = net.takeMessages().filter((m) => m.type === MessageType.App);
  t.equal(apps.length, 2, 'one App each for b and c');
  t.ok(apps.every((m) => m.entries.length === 100));
  for (const m of apps) net.deliver(m);
  net.stabilize();
  t.equal(net.core('c').status().commit, boot(3) + 101);
});

t.test('batching is bounded by maxEntriesBytesPerMsg (always at least one entry)', async (t) => {
  const net = new Network(['a', 'b'], { maxEntriesBytesPerMsg: 250 });
  net.elect('a');
  const a = net.core('a');
  for (let i = 0; i < 20; i++) a.propose(new Uint8Array(100)); // 124 bytes each with header
  const apps = net.takeMessages().filter((m) => m.type === MessageType.App);
  t.equal(apps.length, 10, 'two entries per message');
  t.ok(apps.every((m) => m.entries.length === 2));
  a.propose(new Uint8Array(1000));
  for (const m of apps) net.deliver(m);
  net.stabilize();
  t.equal(net.core('b').status().lastIndex, boot(2) + 22, 'an oversized entry still goes, alone');
});

t.test('pipelining: several Apps in flight, bounded by maxInflightMsgs', async (t) => {
  const net = new Network(['a', 'b'], { maxInflightMsgs: 3, maxEntriesBytesPerMsg: 30 });
  net.elect('a');
  const a = net.core('a');
  net.drop = (m) => m.to === 'b';
  for (let i = 0; i < 10; i++) a.propose(data('x'));
  let apps = net.takeMessages().filter((m) => m.type === MessageType.App && m.to === 'b');
  t.equal(apps.length, 3, 'three unacked Apps, each with one entry, then paused');
  for (let i = 0; i < 5; i++) a.propose(data('y'));
  t.equal(net.takeMessages().filter((m) => m.type === MessageType.App).length, 0, 'still paused');
  net.heal();
  // Ack the first App only: exactly one slot frees.
  net.deliver(apps[0]!);
  for (const m of net.takeMessages()) if (m.to === 'a') net.deliver(m);
  apps = net.takeMessages().filter((m) => m.type === MessageType.App && m.to === 'b');
  t.equal(apps.length, 1, 'one acked, one more sent');
  t.equal(apps[0]?.index, boot(2) + 4, 'continues right after the in-flight ones');
});

t.test('flow control is bounded by maxInflightBytes too', async (t) => {
  const net = new Network(['a', 'b'], {
    maxInflightMsgs: 100,
    maxInflightBytes: 300,
    maxEntriesBytesPerMsg: 130,
  });
  net.elect('a');
  const a = net.core('a');
  for (let i = 0; i < 10; i++) a.propose(new Uint8Array(100));
  const apps = net.takeMessages().filter((m) => m.type === MessageType.App && m.to === 'b');
  t.equal(apps.length, 3, '3 x 124 bytes reaches the 300-byte bound');
});

t.test('a follower in probe state gets one App at a time until it answers', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.drop = (m) => m.to === 'c';
  net.elect('a');
  const a = net.core('a');
  for (let i = 0; i < 5; i++) {
    a.propose(data('x'));
    net.stabilize();
  }
  net.heal();
  const before = net.delivered.length;
  a.tick(); // heartbeat; c's ack unpauses the probe
  net.stabilize();
  const appsToC = net.delivered
    .slice(before)
    .filter((m) => m.type === MessageType.App && m.to === 'c');
  t.ok(appsToC.length >= 1 && appsToC.length <= 3, `${appsToC.length} Apps to catch c up`);
  t.equal(net.core('c').status().lastIndex, boot(3) + 6);
  t.equal(net.core('c').status().commit, boot(3) + 6);
});

t.test('probe state: at most one unanswered App', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  const sentToC: number[] = [];
  net.drop = (m) => {
    if (m.to === 'c' && m.type === MessageType.App) sentToC.push(m.index);
    return m.to === 'c';
  };
  net.elect('a');
  for (let i = 0; i < 5; i++) {
    net.core('a').propose(data('x'));
    net.stabilize();
  }
  t.equal(sentToC.length, 1, 'only the first probe went out, the rest wait for its answer');
});

t.test('Inflights: full at the message count or byte bound; freeLE frees in order', async (t) => {
  const inf = new Inflights(3, 100);
  inf.add(1, 10);
  inf.add(2, 10);
  t.notOk(inf.full());
  inf.add(5, 10);
  t.ok(inf.full(), 'count bound');
  t.throws(() => inf.add(6, 1));
  inf.freeLE(2);
  t.equal(inf.count, 1);
  t.equal(inf.bytes, 10);
  inf.add(6, 95);
  t.ok(inf.full(), 'byte bound');
  inf.freeLE(6);
  t.equal(inf.count, 0);
  t.equal(inf.bytes, 0);
});

t.test(
  'a lost App with a full inflight window is repaired after the next heartbeat ack',
  async (t) => {
    const net = new Network(['a', 'b', 'c'], { maxInflightMsgs: 1 });
    net.elect('a');
    const a = net.core('a');
    let dropped = 0;
    net.drop = (m) => {
      if (m.type === MessageType.App && m.to === 'c' && dropped === 0) {
        dropped++;
        return true;
      }
      return false;
    };
    a.propose(data('lost'));
    net.stabilize();
    a.propose(data('after'));
    net.stabilize();
    t.equal(dropped, 1);
    t.ok(net.core('c').status().lastIndex < a.status().lastIndex, 'c is stuck behind the lost App');
    a.tick();
    net.stabilize();
    t.equal(
      net.core('c').status().lastIndex,
      a.status().lastIndex,
      'heartbeat ack reopened the window',
    );
    t.equal(net.core('c').status().commit, a.status().commit);
  },
);
