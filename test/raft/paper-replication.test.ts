// Raft paper §5.3 (log replication) and §5.4.2 (committing entries from previous terms).
import t from 'tap';
import { newMessage } from '../../src/raft/core/index.js';
import { MessageType } from '../../src/raft/types.js';
import { baseConfig, boot, data, diskWithLog, Network, text } from './helpers/network.js';

t.test('the leader appends a proposal to its log and sends it to every follower', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  const idx = net.core('a').propose(data('x'));
  const apps = net.takeMessages().filter((m) => m.type === MessageType.App);
  t.same(apps.map((m) => m.to).sort(), ['b', 'c']);
  for (const m of apps) {
    t.equal(m.entries.length, 1);
    t.equal(m.entries[0]?.index, idx);
    t.equal(m.index, idx - 1, 'prevLogIndex precedes the entry');
    t.equal(m.logTerm, 2, 'prevLogTerm is the no-op term');
  }
});

t.test('a log entry is committed once the leader has replicated it on a majority', async (t) => {
  const net = new Network(['a', 'b', 'c', 'd', 'e']);
  net.elect('a');
  const idx = net.core('a').propose(data('x'));
  net.drop = (m) => m.to === 'd' || m.to === 'e' || m.to === 'c';
  net.stabilize();
  t.ok(net.core('a').status().commit < idx, 'two of five is not a majority');
  net.drop = (m) => m.to === 'd' || m.to === 'e';
  net.core('a').tick();
  net.stabilize();
  t.equal(net.core('a').status().commit, idx, 'three of five is');
});

t.test('when the leader commits an entry it also commits all preceding entries', async (t) => {
  // Leader log has entries of an earlier term 1..2 then its no-op at term 3.
  const net = new Network([]);
  net.add(baseConfig('a', ['a', 'b', 'c']), diskWithLog([1, 2], 2), 1);
  // Empty voters with no peers list (no bootstrap prefix): they only vote and follow.
  net.add(baseConfig('b', []), diskWithLog([], 0), 2);
  net.add(baseConfig('c', []), diskWithLog([], 0), 3);
  net.elect('a');
  net.stabilize();
  const a = net.core('a').status();
  t.equal(a.term, 3);
  t.equal(a.commit, 3, 'committed the no-op at 3');
  t.same(
    net.node('a').applied.map((e) => [e.index, e.term]),
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
    'and with it both earlier entries, in order',
  );
  t.same(
    net
      .node('b')
      .disk.dump()
      .entries?.map((e) => e.term),
    [1, 2, 3],
  );
});

function figure8Leader(bugs: string[]) {
  // a holds [1, 2] and becomes leader of term 3; b acks index 2 (an older-term entry).
  const net = new Network([]);
  const cfg = (id: string) => baseConfig(id, ['a', 'b', 'c'], { testBugs: new Set(bugs) });
  net.add(cfg('a'), diskWithLog([1, 2], 2), 1);
  net.add(cfg('b'), diskWithLog([1], 2), 2);
  net.add(cfg('c'), diskWithLog([1], 2), 3);
  net.drop = (m) => m.type === MessageType.App;
  net.elect('a');
  net.drop = () => true;
  net.takeMessages();
  const a = net.core('a');
  a.step(newMessage(MessageType.AppResp, 'b', 'a', 3, { index: 2 }));
  net.processReadies();
  return { net, a };
}

t.test('Raft never commits log entries from previous terms by counting replicas', async (t) => {
  const { a, net } = figure8Leader([]);
  t.equal(a.status().term, 3);
  t.equal(a.status().commit, 0, 'index 2 (term 2) is on a majority but not committed');
  a.step(newMessage(MessageType.AppResp, 'b', 'a', 3, { index: 3 }));
  net.processReadies();
  t.equal(a.status().commit, 3, 'committing the term-3 no-op commits index 2 indirectly');
});

t.test(
  "test bug 'commit-old-term-by-count' commits the older-term entry by counting",
  async (t) => {
    const { a } = figure8Leader(['commit-old-term-by-count']);
    t.equal(a.status().commit, 2, 'the unsafe rule committed index 2 of term 2');
  },
);

t.test('the leader counts itself only for entries it has persisted (after advance)', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  net.elect('a');
  const a = net.core('a');
  const idx = a.propose(data('x'));
  const rd = a.ready();
  t.same(
    rd.entries.map((e) => e.index),
    [idx],
  );
  t.equal(rd.committedEntries.length, 0);
  net.node('a').disk.persist(rd);
  // Only b acks: b + a would be a majority, but a has not reported its persist yet.
  for (const m of rd.messages) if (m.to === 'b') net.deliver(m);
  for (const m of net.takeMessages()) if (m.to === 'a') net.deliver(m);
  t.equal(a.status().commit, idx - 1, 'not committed before advance');
  a.advance(rd);
  t.equal(a.status().commit, idx, 'committed once its own copy is durable');
});

t.test(
  'vote grants and append acks travel in the Ready that persists what they promise',
  async (t) => {
    const net = new Network(['a', 'b', 'c']);
    const b = net.core('b');
    b.step(newMessage(MessageType.Vote, 'a', 'b', 2, { index: boot(3), logTerm: 1 }));
    const rd = b.ready();
    t.equal(rd.hardState?.vote, 'a', 'the vote is in this Ready to persist first');
    t.ok(rd.messages.some((m) => m.type === MessageType.VoteResp && !m.reject));
    b.advance(rd);
    const entry = { index: boot(3) + 1, term: 2, type: 0, data: data('e') };
    b.step(
      newMessage(MessageType.App, 'a', 'b', 2, { index: boot(3), logTerm: 1, entries: [entry] }),
    );
    const rd2 = b.ready();
    t.same(
      rd2.entries.map((e) => e.index),
      [boot(3) + 1],
    );
    t.ok(rd2.messages.some((m) => m.type === MessageType.AppResp && m.index === boot(3) + 1));
    t.throws(() => b.ready(), 'no second Ready before advance');
    b.advance(rd2);
  },
);

t.test("figure 7: the leader brings every follower's log in line with its own", async (t) => {
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  for (const [name, log] of Object.entries(followers)) {
    const net = new Network([]);
    const peers = ['L', 'F', 'X'];
    net.add(baseConfig('L', peers), diskWithLog(leaderLog, 8), 1);
    net.add(baseConfig('F', peers), diskWithLog(log, Math.max(...log)), 2);
    net.add(baseConfig('X', []), diskWithLog([], 0), 3);
    net.elect('L');
    net.core('L').propose(data('new'));
    net.stabilize();
    const want = net
      .node('L')
      .disk.dump()
      .entries?.map((e) => e.term);
    const got = net
      .node('F')
      .disk.dump()
      .entries?.map((e) => e.term);
    t.same(got, want, `follower (${name}) repaired`);
    t.equal(net.core('F').status().commit, net.core('L').status().commit, `(${name}) caught up`);
    t.equal(text(net.node('F').applied.at(-1)!), 'new');
  }
});

t.test(
  'fast backtracking: a rejection skips a whole conflicting term per round trip',
  async (t) => {
    const peers = ['L', 'F', 'X'];
    const net = new Network([]);
    net.add(baseConfig('L', peers), diskWithLog([1, 1, 1, 4, 4, 5, 5, 6, 6, 6], 8), 1);
    net.add(baseConfig('F', peers), diskWithLog([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 3), 2);
    net.add(baseConfig('X', []), diskWithLog([], 0), 3);
    net.elect('L');
    net.stabilize();
    const rejects = net.delivered.filter(
      (m) => m.type === MessageType.AppResp && m.from === 'F' && m.reject,
    );
    t.ok(
      rejects.length <= 2,
      `${rejects.length} rejections (one per differing term, not per entry)`,
    );
  },
);
