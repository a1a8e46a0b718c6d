// Raft paper figure 8 end to end, five nodes: why a leader must not commit an entry of an
// older term by counting replicas. With the test bug switch the committed entry is later
// overwritten (a State Machine Safety violation); with the rule it is never committed.
import t from 'tap';
import { bootstrapEntries } from '../../src/raft/core/bootstrap.js';
import { MemoryLogView } from '../../src/raft/core/index.js';
import { type Entry, EntryType, type Message, MessageType } from '../../src/raft/types.js';
import { baseConfig, data, Network, text } from './helpers/network.js';

const ids = ['s1', 's2', 's3', 's4', 's5'];
const boot = bootstrapEntries(ids);
const i = boot.length + 1; // the contested index

function entry(term: number, s: string): Entry {
  return { index: i, term, type: EntryType.Normal, data: data(s) };
}

function disk(extra: Entry[], term: number): MemoryLogView {
  return new MemoryLogView({
    hardState: { term, vote: null, commit: boot.length },
    entries: [...boot, ...extra],
  });
}

function run(bugs: string[]) {
  const net = new Network([]);
  const cfg = (id: string) =>
    baseConfig(id, ids, { maxEntriesBytesPerMsg: 1, testBugs: new Set(bugs) });
  // State after figure 8 (b): X (term 2) on s1, s2; Y (term 3) only on s5.
  net.add(cfg('s1'), disk([entry(2, 'X')], 3), 1);
  net.add(cfg('s2'), disk([entry(2, 'X')], 3), 2);
  net.add(cfg('s3'), disk([], 3), 3);
  net.add(cfg('s4'), disk([], 3), 4);
  net.add(cfg('s5'), disk([entry(3, 'Y')], 3), 5);
  // (c) s1 wins term 4 with s2 and s3, then spreads X (only X) to s3 and s4.
  // Once s3/s4 hold X they hear nothing more (so they never learn a commit index >= i).
  const gotX = new Set<string>();
  net.drop = (m: Message) => {
    if (m.to === 's5' || m.from === 's5' || gotX.has(m.to)) return true;
    if (m.type !== MessageType.App) return false;
    if (m.to === 's2') return true;
    if (m.index === i - 1 && m.entries[0]?.index === i) gotX.add(m.to);
    return !(m.index === i || m.index === i - 1);
  };
  net.elect('s1');
  for (let k = 0; k < 5; k++) {
    net.core('s1').tick();
    net.stabilize();
  }
  // s2 acks X as it would for an App carrying it (it already has it).
  const term = net.core('s1').status().term;
  net.core('s1').step({
    type: MessageType.AppResp,
    from: 's2',
    to: 's1',
    term,
    logTerm: 0,
    index: i,
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
    context: 0,
    snapshot: null,
  });
  net.processReadies();
  const s1Commit = net.core('s1').status().commit;
  // (d) s1 is cut off; s5 (last term 3) wins with s2, s3, s4 and imposes Y at index i.
  gotX.clear();
  net.drop = (m) => m.to === 's1' || m.from === 's1';
  net.elect('s5');
  net.core('s5').propose(data('after'));
  net.stabilize();
  return { net, s1Commit };
}

t.test(
  'figure 8 with the rule: the older-term entry X is never committed by counting',
  async (t) => {
    const { net, s1Commit } = run([]);
    t.ok(s1Commit < i, `s1 commit ${s1Commit} stays below ${i} though X is on s1..s4`);
    const applied = (id: string) => net.node(id).applied.find((e) => e.index === i);
    t.equal(applied('s1'), undefined, 's1 never applied X');
    t.equal(text(applied('s3')!), 'Y', 'the group committed Y at index i');
  },
);

t.test("figure 8 with 'commit-old-term-by-count': X is committed, then overwritten", async (t) => {
  const { net, s1Commit } = run(['commit-old-term-by-count']);
  t.ok(s1Commit >= i, 's1 committed X by counting s1, s2, s3, s4');
  const s1Applied = net.node('s1').applied.find((e) => e.index === i);
  const s3Applied = net.node('s3').applied.find((e) => e.index === i);
  t.equal(text(s1Applied!), 'X');
  t.equal(text(s3Applied!), 'Y', 'two nodes applied different entries at one index');
});
