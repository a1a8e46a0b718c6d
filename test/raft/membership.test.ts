// Single-server membership changes (dissertation §4.1): learners, promote, remove.
import t from 'tap';
import { MemoryLogView } from '../../src/raft/core/index.js';
import { MessageType } from '../../src/raft/types.js';
import { baseConfig, data, Network } from './helpers/network.js';

function groupWithJoiner() {
  const net = new Network(['a', 'b', 'c']);
  net.add(baseConfig('d', []), new MemoryLogView(), 99); // started with --join: empty
  net.elect('a');
  return net;
}

t.test('a learner receives entries but does not vote or count toward commit', async (t) => {
  const net = groupWithJoiner();
  const a = net.core('a');
  const idx = a.proposeConfChange({ type: 'addLearner', id: 'd' });
  t.same(a.status().conf.learners, ['d'], 'the configuration applies when appended');
  net.stabilize();
  t.equal(net.core('d').status().commit, idx, 'the learner caught up');
  t.equal(net.core('d').status().role, 'learner');
  net.drop = (m) => m.to === 'b' || m.to === 'c';
  const next = a.propose(data('x'));
  net.stabilize();
  t.equal(net.core('d').status().lastIndex, next, 'the learner has it');
  t.ok(a.status().commit < next, 'a + learner d is not a quorum of {a,b,c}');
  net.heal();
  for (let i = 0; i < 30; i++) net.core('d').tick();
  t.equal(net.core('d').status().role, 'learner', 'a learner never campaigns');
  t.equal(
    net.takeMessages().filter((m) => m.from === 'd' && m.type === MessageType.Vote).length,
    0,
  );
});

t.test('promote makes a learner a voter; the quorum grows', async (t) => {
  const net = groupWithJoiner();
  const a = net.core('a');
  a.proposeConfChange({ type: 'addLearner', id: 'd' });
  net.stabilize();
  a.proposeConfChange({ type: 'promote', id: 'd' });
  net.stabilize();
  t.same(a.status().conf.voters.sort(), ['a', 'b', 'c', 'd']);
  t.same(net.core('d').status().conf.voters.sort(), ['a', 'b', 'c', 'd']);
  net.drop = (m) => m.to === 'c' || m.to === 'd';
  const idx = a.propose(data('x'));
  net.stabilize();
  t.ok(a.status().commit < idx, '2 of 4 is not a quorum any more');
});

t.test('promote waits until the learner holds everything committed', async (t) => {
  const net = groupWithJoiner();
  const a = net.core('a');
  net.drop = (m) => m.to === 'd';
  a.proposeConfChange({ type: 'addLearner', id: 'd' });
  net.stabilize();
  t.throws(() => a.proposeConfChange({ type: 'promote', id: 'd' }), { code: 'unavailable' });
  net.heal();
  a.tick();
  net.stabilize();
  t.doesNotThrow(() => a.proposeConfChange({ type: 'promote', id: 'd' }), 'caught up');
});

t.test('only one membership change at a time, and only after the no-op committed', async (t) => {
  const net = groupWithJoiner();
  const a = net.core('a');
  t.throws(() => a.proposeConfChange({ type: 'promote', id: 'zz' }), { code: 'invalid_argument' });
  a.proposeConfChange({ type: 'addLearner', id: 'd' });
  t.throws(() => a.proposeConfChange({ type: 'addLearner', id: 'e' }), { code: 'unavailable' });
  net.stabilize();
  t.doesNotThrow(() => a.proposeConfChange({ type: 'addLearner', id: 'e' }), 'once applied');
  t.throws(() => net.core('b').proposeConfChange({ type: 'remove', id: 'c' }), {
    code: 'not_leader',
  });
  const fresh = new Network(['a', 'b', 'c']);
  fresh.drop = (m) => m.type === MessageType.App;
  fresh.elect('a');
  t.throws(() => fresh.core('a').proposeConfChange({ type: 'remove', id: 'c' }), {
    code: 'unavailable',
  });
});

t.test(
  'remove shrinks the group; a removed leader steps down once the change commits',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    const a = net.core('a');
    a.proposeConfChange({ type: 'remove', id: 'c' });
    net.stabilize();
    t.same(a.status().conf.voters.sort(), ['a', 'b']);
    a.proposeConfChange({ type: 'remove', id: 'a' });
    net.stabilize();
    t.equal(a.status().role, 'follower', 'stepped down');
    t.same(net.core('b').status().conf.voters, ['b']);
    for (let i = 0; i < 30 && net.core('b').status().role !== 'leader'; i++) net.core('b').tick();
    net.stabilize();
    t.equal(net.core('b').status().role, 'leader', 'the single remaining voter leads');
  },
);

t.test(
  'the configuration is recovered from the log on restart and rolled back on truncation',
  async (t) => {
    const net = groupWithJoiner();
    net.core('a').proposeConfChange({ type: 'addLearner', id: 'd' });
    net.stabilize();
    const restarted = new Network([]);
    const b = restarted.add(
      baseConfig('b', ['a', 'b', 'c']),
      new MemoryLogView(net.node('b').disk.dump()),
      1,
    );
    t.same(b.core.status().conf.learners, ['d'], 'rebuilt from the ConfChange entry');
    // Truncation: the leader appends a change nobody else gets, loses leadership, and the new
    // leader's log overwrites it.
    const net2 = new Network(['a', 'b', 'c']);
    net2.elect('a');
    net2.drop = (m) => m.from === 'a' || m.to === 'a';
    net2.core('a').proposeConfChange({ type: 'addLearner', id: 'd' });
    net2.processReadies();
    t.same(net2.core('a').status().conf.learners, ['d'], 'a applied it on append');
    net2.elect('b');
    net2.core('b').propose(data('overwrite'));
    net2.heal();
    net2.core('b').tick();
    net2.stabilize();
    t.equal(net2.core('a').status().leader, 'b');
    t.same(net2.core('a').status().conf.learners, [], 'rolled back when the entry was overwritten');
  },
);
