// How followers learn a new commit index: at once by an empty App ('eager', etcd's bcastAppend),
// or with the next App or heartbeat ('piggyback', no message of its own).
import t from 'tap';
import { MessageType } from '../../src/raft/types.js';
import { data, Network } from './helpers/network.js';

/** Proposes one entry on leader a, delivers it and the acks; returns the Apps sent after. */
function commitOne(net: Network): { idx: number; afterCommit: number } {
  const idx = net.core('a').propose(data('x'));
  for (const m of net.takeMessages()) net.deliver(m); // Apps with the entry
  for (const m of net.takeMessages()) net.deliver(m); // acks: the leader commits
  const after = net.takeMessages().filter((m) => m.type === MessageType.App);
  for (const m of after) net.deliver(m);
  return { idx, afterCommit: after.length };
}

t.test('eager: a commit goes out at once in an empty App to each follower', async (t) => {
  const net = new Network(['a', 'b', 'c'], { commitBroadcast: 'eager' });
  net.elect('a');
  const { idx, afterCommit } = commitOne(net);
  t.equal(net.core('a').status().commit, idx);
  t.equal(afterCommit, 2, 'one empty App per follower');
  net.processReadies();
  t.equal(net.core('b').status().commit, idx, 'the follower knows the commit');
});

t.test('piggyback: the commit waits for the next heartbeat, then followers learn it', async (t) => {
  const net = new Network(['a', 'b', 'c'], { commitBroadcast: 'piggyback' });
  net.elect('a');
  const { idx, afterCommit } = commitOne(net);
  t.equal(net.core('a').status().commit, idx);
  t.equal(afterCommit, 0, 'no App of its own');
  t.ok(net.core('b').status().commit < idx, 'the follower does not know yet');
  net.core('a').tick(); // heartbeatTicks is 1 here: a heartbeat carries it
  net.stabilize();
  t.equal(net.core('b').status().commit, idx, 'the heartbeat carried it');
});

t.test('piggyback: the next batch of entries carries the earlier commit', async (t) => {
  const net = new Network(['a', 'b', 'c'], { commitBroadcast: 'piggyback' });
  net.elect('a');
  const { idx } = commitOne(net);
  net.core('a').propose(data('y'));
  const apps = net.takeMessages().filter((m) => m.type === MessageType.App);
  t.equal(apps.length, 2);
  for (const m of apps) t.equal(m.commit, idx, `the App to ${m.to} carries commit ${idx}`);
});
