// Raft paper §5.1 rules about terms, driven like etcd's raft_paper_test.go.
import t from 'tap';
import { newMessage } from '../../src/raft/core/index.js';
import { MessageType } from '../../src/raft/types.js';
import { Network } from './helpers/network.js';

t.test(
  "if one server's current term is smaller than the other's, it updates its current term to the larger value",
  async (t) => {
    for (const role of ['follower', 'candidate', 'leader'] as const) {
      const net = new Network(['a', 'b', 'c']);
      if (role === 'leader') net.elect('a');
      if (role === 'candidate') {
        net.drop = () => true;
        for (let i = 0; i < 30 && net.core('a').status().role !== 'candidate'; i++) {
          net.core('a').tick();
        }
      }
      t.equal(net.core('a').status().role, role, `a is ${role}`);
      net.takeMessages();
      net.core('a').step(newMessage(MessageType.App, 'b', 'a', 5, { index: 0, logTerm: 0 }));
      const st = net.core('a').status();
      t.equal(st.term, 5, `${role} took term 5`);
      t.equal(st.role, 'follower', `${role} reverted to follower`);
      t.equal(st.leader, 'b', `${role} learned the leader`);
    }
  },
);

t.test(
  'if a candidate or leader discovers that its term is out of date, it immediately reverts to follower state',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    net.takeMessages();
    net.core('a').step(newMessage(MessageType.VoteResp, 'c', 'a', 9, { reject: true }));
    t.equal(net.core('a').status().role, 'follower');
    t.equal(net.core('a').status().term, 9);
    t.equal(net.core('a').status().leader, null);
  },
);

t.test(
  'if a server receives a request with a stale term number, it rejects the request',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    net.elect('b');
    t.equal(net.core('b').status().term, 3);
    net.takeMessages();
    const before = net.core('c').status();
    net.core('c').step(newMessage(MessageType.Vote, 'a', 'c', 1, { index: 9, logTerm: 9 }));
    const out = net.takeMessages();
    t.same(net.core('c').status(), before, 'no state change on a stale vote request');
    t.same(out, [], 'a stale vote request is not answered (without preVote/checkQuorum)');
    net.core('c').step(newMessage(MessageType.App, 'a', 'c', 1, { index: 1, logTerm: 1 }));
    t.same(net.core('c').status(), before, 'a stale append changes nothing');
  },
);

t.test('a stale leader is told the newer term (checkQuorum) and steps down', async (t) => {
  const net = new Network(['a', 'b', 'c'], { checkQuorum: true, preVote: true });
  net.tickAll(10);
  net.elect('a');
  net.isolate('a');
  const bOrC = () => ['b', 'c'].find((id) => net.core(id).status().role === 'leader');
  for (let i = 0; i < 60 && !bOrC(); i++) {
    net.core('b').tick();
    net.core('c').tick();
    net.stabilize();
  }
  const newLeader = bOrC();
  t.ok(newLeader === 'b' || newLeader === 'c', 'b or c took over');
  net.heal();
  net
    .core('a')
    .step(newMessage(MessageType.AppResp, 'b', 'a', net.core('b').status().term, { index: 0 }));
  t.equal(net.core('a').status().role, 'follower', 'old leader stepped down');
});
