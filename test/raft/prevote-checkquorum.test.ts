// PreVote and CheckQuorum (Raft dissertation §9.6).
import t from 'tap';
import { MessageType } from '../../src/raft/types.js';
import { boot, Network } from './helpers/network.js';

function isolatedFollowerCampaigns(preVote: boolean) {
  const net = new Network(['a', 'b', 'c'], { preVote, checkQuorum: preVote });
  net.tickAll(10);
  net.elect('a');
  net.isolate('c');
  for (let i = 0; i < 50; i++) {
    net.core('c').tick();
    net.stabilize();
  }
  return net;
}

t.test('with PreVote a partitioned node does not inflate its term', async (t) => {
  const net = isolatedFollowerCampaigns(true);
  t.equal(net.core('c').status().term, 2, 'pre-elections never win, term stays');
  t.equal(net.core('c').status().role, 'precandidate');
  net.heal();
  for (let i = 0; i < 3; i++) {
    net.core('a').tick();
    net.stabilize();
  }
  t.equal(net.core('a').status().role, 'leader', 'rejoining did not disrupt the leader');
  t.equal(net.core('a').status().term, 2);
  t.equal(net.core('c').status().leader, 'a');
});

t.test(
  'without PreVote a partitioned node inflates its term and disrupts the leader on return',
  async (t) => {
    const net = isolatedFollowerCampaigns(false);
    t.ok(net.core('c').status().term > 2, 'each timeout bumped the term');
    net.heal();
    for (let i = 0; i < 30; i++) {
      net.tickAll();
      net.stabilize();
    }
    t.ok(net.core('a').status().term > 2, 'the leader was deposed by the higher term');
  },
);

t.test('a pre-candidate that wins a pre-election then campaigns for real', async (t) => {
  const net = new Network(['a', 'b', 'c'], { preVote: true });
  const a = net.core('a');
  for (let i = 0; i < 20 && a.status().role === 'follower'; i++) a.tick();
  t.equal(a.status().role, 'precandidate');
  t.equal(a.status().term, 1, 'a pre-candidate keeps its term');
  const pre = net.takeMessages();
  t.ok(
    pre.every((m) => m.type === MessageType.PreVote && m.term === 2),
    'asks for term+1',
  );
  for (const m of pre) net.deliver(m);
  net.stabilize();
  t.equal(a.status().role, 'leader');
  t.equal(a.status().term, 2);
});

t.test('CheckQuorum: a leader that cannot hear from a quorum steps down', async (t) => {
  const net = new Network(['a', 'b', 'c'], { checkQuorum: true });
  net.tickAll(10);
  net.elect('a');
  net.isolate('a');
  for (let i = 0; i < 21; i++) {
    net.core('a').tick();
    net.stabilize();
  }
  t.equal(net.core('a').status().role, 'follower');
  t.equal(net.core('a').status().leader, null);
});

t.test('CheckQuorum: a leader that hears from a quorum stays', async (t) => {
  const net = new Network(['a', 'b', 'c'], { checkQuorum: true });
  net.tickAll(10);
  net.elect('a');
  net.isolate('c');
  for (let i = 0; i < 50; i++) {
    net.core('a').tick();
    net.stabilize();
  }
  t.equal(net.core('a').status().role, 'leader');
});

t.test(
  'leader stickiness: a follower that heard from the leader recently ignores vote requests',
  async (t) => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: true });
    net.tickAll(10);
    net.elect('a');
    // c is cut off from a only, times out and campaigns at a higher term.
    net.drop = (m) => (m.from === 'a' && m.to === 'c') || (m.from === 'c' && m.to === 'a');
    for (let i = 0; i < 40; i++) {
      net.core('a').tick();
      net.core('b').tick();
      net.core('c').tick();
      net.stabilize();
    }
    t.ok(net.core('c').status().term > 2, 'c campaigned');
    t.equal(net.core('b').status().term, 2, 'b ignored the higher-term vote requests');
    t.equal(net.core('a').status().role, 'leader', 'a kept leading');
  },
);

t.test('a restarted node refuses votes for one election timeout (lease safety)', async (t) => {
  const net = new Network(['a', 'b', 'c'], { checkQuorum: true });
  const b = net.core('b');
  b.step({
    type: MessageType.Vote,
    from: 'a',
    to: 'b',
    term: 2,
    logTerm: 1,
    index: boot(3),
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
    context: 0,
    snapshot: null,
  });
  t.equal(net.takeMessages().length, 0, 'ignored right after start');
  t.equal(b.status().term, 1);
});
