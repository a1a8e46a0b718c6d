import t from 'tap';
import { Core, MemoryLogView } from '../../src/raft/core/index.js';
import { newMessage } from '../../src/raft/core/message.js';
import { MessageType } from '../../src/raft/types.js';
import { baseConfig, boot, lcg, Network } from './helpers/network.js';

t.test('a new group starts from identical committed bootstrap entries of term 1', async (t) => {
  const net = new Network(['c', 'a', 'b']);
  net.processReadies();
  for (const id of ['a', 'b', 'c']) {
    const n = net.node(id);
    t.equal(n.disk.hardState.term, 1);
    t.equal(n.disk.hardState.commit, boot(3));
    t.equal(n.applied.length, boot(3), 'bootstrap entries are applied (persisted first)');
    t.same(n.core.status().conf.voters, ['a', 'b', 'c']);
  }
  const logs = ['a', 'b', 'c'].map((id) => JSON.stringify(net.node(id).disk.dump().entries));
  t.equal(new Set(logs).size, 1, 'byte-identical on every member');
});

t.test('a single node elects itself and commits its no-op', async (t) => {
  const net = new Network(['a']);
  net.elect('a');
  net.processReadies();
  const st = net.core('a').status();
  t.equal(st.role, 'leader');
  t.equal(st.term, 2);
  t.equal(st.commit, boot(1) + 1);
  t.equal(net.node('a').applied.length, boot(1) + 1, 'the no-op was applied');
});

t.test('three nodes elect one leader who replicates and commits a proposal', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  const idx = net.core('a').propose(new Uint8Array([1, 2, 3]));
  net.stabilize();
  for (const id of ['a', 'b', 'c']) {
    t.equal(net.core(id).status().commit, idx, `${id} committed`);
    t.same(
      net
        .node(id)
        .applied.map((e) => e.index)
        .slice(boot(3)),
      [boot(3) + 1, boot(3) + 2],
      `${id} applied no-op + proposal`,
    );
  }
  t.equal(net.core('b').status().leader, 'a');
});

t.test('restart recovers term, vote and log from the LogView', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  net.core('a').propose(new Uint8Array([9]));
  net.stabilize();
  const disk = new MemoryLogView(net.node('b').disk.dump());
  const core = new Core(baseConfig('b', ['a', 'b', 'c'], { applied: boot(3) + 2 }), disk, {
    randomInt: lcg(3),
    nowMs: () => 0,
  });
  const st = core.status();
  t.equal(st.term, 2);
  t.equal(st.lastIndex, boot(3) + 2);
  t.equal(st.applied, boot(3) + 2);
  t.ok(st.commit >= 1);
  t.equal(disk.hardState.vote, 'a');
});

t.test('a message of a lower term than ours is rejected', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  const b = net.core('b');
  const before = b.status();
  b.step(
    newMessage(MessageType.App, 'c', 'b', 0, { index: 1, logTerm: 1, entries: [], commit: 1 }),
  );
  t.same(b.status(), before, 'state unchanged');
});
