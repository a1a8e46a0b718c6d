// Raft paper §5.2 (leader election) and §5.4.1 (election restriction).
import t from 'tap';
import { newMessage } from '../../src/raft/core/index.js';
import { type Message, MessageType } from '../../src/raft/types.js';
import { baseConfig, boot, diskWithLog, Network } from './helpers/network.js';

t.test(
  'upon election the leader sends heartbeats to each server and repeats them during idle periods',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    net.elect('a');
    net.takeMessages();
    net.core('a').tick();
    const hb = net.takeMessages().filter((m) => m.type === MessageType.Heartbeat);
    t.same(hb.map((m) => m.to).sort(), ['b', 'c'], 'one heartbeat per follower');
    t.ok(hb.every((m) => m.term === net.core('a').status().term));
    t.ok(
      hb.every((m) => m.commit <= net.core('a').status().commit),
      'heartbeat commit never exceeds what the peer matched',
    );
    net.core('a').tick();
    t.equal(net.takeMessages().filter((m) => m.type === MessageType.Heartbeat).length, 2, 'again');
  },
);

t.test(
  'a follower that hears nothing within its election timeout starts an election',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    const a = net.core('a');
    for (let i = 0; i < 20; i++) a.tick();
    t.equal(a.status().role, 'candidate');
    t.equal(a.status().term, 2);
    const votes = net.takeMessages().filter((m) => m.type === MessageType.Vote);
    t.same(votes.map((m) => m.to).sort(), ['b', 'c'], 'requests votes from every other voter');
    t.equal(net.node('a').disk.hardState.vote, 'a', 'voted for itself (durably) before asking');
  },
);

t.test('election timeouts are chosen randomly from [electionTicks, 2*electionTicks)', async (t) => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const net = new Network(['a', 'b', 'c'], undefined, seed * 13);
    const a = net.core('a');
    let ticks = 0;
    while (a.status().role === 'follower' && ticks < 100) {
      a.tick();
      ticks++;
    }
    t.ok(ticks >= 10 && ticks < 20, `timeout ${ticks} in [10, 20)`);
    seen.add(ticks);
  }
  t.ok(seen.size >= 5, `randomized: ${seen.size} distinct timeouts`);
});

t.test(
  'randomized election timeouts rarely conflict: usually one server times out first',
  async (t) => {
    let conflicts = 0;
    const runs = 100;
    for (let seed = 1; seed <= runs; seed++) {
      const ids = ['a', 'b', 'c', 'd', 'e'];
      const net = new Network(ids, undefined, seed * 977);
      let timedOut: string[] = [];
      for (let tick = 0; tick < 40 && timedOut.length === 0; tick++) {
        for (const id of ids) net.core(id).tick();
        timedOut = ids.filter((id) => net.core(id).status().role === 'candidate');
      }
      if (timedOut.length > 1) conflicts++;
    }
    t.ok(conflicts / runs <= 0.4, `conflict rate ${conflicts}/${runs}`);
  },
);

t.test(
  'each server votes for at most one candidate in a term, first-come-first-served',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    const c = net.core('c');
    c.step(newMessage(MessageType.Vote, 'a', 'c', 2, { index: boot(3), logTerm: 1 }));
    c.step(newMessage(MessageType.Vote, 'b', 'c', 2, { index: boot(3), logTerm: 1 }));
    c.step(newMessage(MessageType.Vote, 'a', 'c', 2, { index: boot(3), logTerm: 1 }));
    const resps = net.takeMessages().filter((m) => m.type === MessageType.VoteResp);
    t.same(
      resps.map((m) => [m.to, m.reject]),
      [
        ['a', false],
        ['b', true],
        ['a', false],
      ],
      'a granted, b denied, a again granted (same candidate)',
    );
    t.equal(net.node('c').disk.hardState.vote, 'a');
  },
);

t.test(
  'the voter denies its vote if its own log is more up-to-date than the candidate',
  async (t) => {
    // Voter log terms [1, 1]; [candidate lastLogTerm, candidate lastIndex, rejected].
    const cases: Array<[number, number, boolean]> = [
      [1, 1, true], // same last term, shorter log
      [1, 2, false], // same last term, same length
      [1, 3, false], // same last term, longer log
      [2, 1, false], // higher last term wins even when shorter
      [0, 5, true], // lower last term loses even when longer
    ];
    for (const [logTerm, index, rejected] of cases) {
      const net = new Network([]);
      net.add(baseConfig('b', ['a', 'b']), diskWithLog([1, 1], 2), 3);
      net.core('b').step(newMessage(MessageType.Vote, 'a', 'b', 3, { index, logTerm }));
      const resp = net.takeMessages().find((m: Message) => m.type === MessageType.VoteResp);
      t.equal(resp?.reject, rejected, `candidate (${logTerm}, ${index}) rejected=${rejected}`);
    }
  },
);

t.test(
  'a candidate that receives votes from a majority becomes leader; a majority of denials makes it a follower',
  async (t) => {
    const net = new Network(['a', 'b', 'c', 'd', 'e']);
    const a = net.core('a');
    for (let i = 0; i < 20 && a.status().role !== 'candidate'; i++) a.tick();
    net.takeMessages();
    a.step(newMessage(MessageType.VoteResp, 'b', 'a', 2));
    t.equal(a.status().role, 'candidate', '2 of 5 is not a majority');
    a.step(newMessage(MessageType.VoteResp, 'c', 'a', 2));
    t.equal(a.status().role, 'leader', '3 of 5 is');
    const net2 = new Network(['a', 'b', 'c', 'd', 'e']);
    const a2 = net2.core('a');
    for (let i = 0; i < 20 && a2.status().role !== 'candidate'; i++) a2.tick();
    for (const id of ['b', 'c', 'd']) {
      a2.step(newMessage(MessageType.VoteResp, id, 'a', 2, { reject: true }));
    }
    t.equal(a2.status().role, 'follower', 'three denials of five');
  },
);
