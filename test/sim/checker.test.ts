import t from 'tap';
import { type Entry, EntryType, type RaftStatus } from '../../src/raft/types.js';
import { type CheckedNode, Checker } from './checker.js';
import { type DiskState, SimDisk } from './sim-disk.js';

class Violation extends Error {}

function makeChecker(): Checker {
  return new Checker((rule, detail) => {
    throw new Violation(`${rule}: ${detail}`);
  });
}

function entry(index: number, term: number, byte: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array([byte]) };
}

function node(id: string, disk: SimDisk, status: Partial<RaftStatus>, applied = 0): CheckedNode {
  const full: RaftStatus = {
    id,
    role: 'follower',
    term: 1,
    leader: null,
    commit: 0,
    applied,
    lastIndex: 0,
    conf: { voters: [], learners: [] },
    ...status,
  };
  return {
    id,
    up: true,
    incarnation: 1,
    status: () => full,
    written: (): DiskState => disk.written,
    synced: (): DiskState => disk.synced,
    applied: () => applied,
  };
}

t.test('two leaders in one term break Election Safety', async (t) => {
  const c = makeChecker();
  c.afterStep(node('n1', new SimDisk(), { role: 'leader', term: 3 }));
  c.afterStep(node('n1', new SimDisk(), { role: 'leader', term: 3 }));
  t.throws(
    () => c.afterStep(node('n2', new SimDisk(), { role: 'leader', term: 3 })),
    /Election Safety/,
  );
});

t.test('the same (index, term) after different prefixes breaks Log Matching', async (t) => {
  const c = makeChecker();
  const a = new SimDisk();
  a.writeEntries([entry(1, 1, 1), entry(2, 2, 2)]);
  c.onWritten('n1', a.written, a.written.entries);
  const b = new SimDisk();
  b.writeEntries([entry(1, 1, 9), entry(2, 2, 2)]);
  t.throws(() => c.onWritten('n2', b.written, b.written.entries), /Log Matching/);
});

t.test('different entries applied at one index break State Machine Safety', async (t) => {
  const c = makeChecker();
  c.onApply('n1', entry(1, 1, 1), 10);
  c.onApply('n2', entry(1, 1, 1), 10);
  t.throws(() => c.onApply('n3', entry(1, 2, 5), 10), /State Machine Safety/);
  t.throws(() => c.onApply('n4', entry(1, 1, 1), 11), /different state/);
});

t.test(
  'a leader missing an entry committed in an earlier term breaks Leader Completeness',
  async (t) => {
    const c = makeChecker();
    const full = new SimDisk();
    full.writeEntries([entry(1, 1, 1), entry(2, 1, 2)]);
    c.afterStep(node('n1', full, { term: 1, commit: 2 }));
    const short = new SimDisk();
    short.writeEntries([entry(1, 1, 1)]);
    t.throws(
      () => c.afterStep(node('n2', short, { role: 'leader', term: 2, commit: 1 })),
      /Leader Completeness/,
    );
  },
);

t.test('commit moving back, applied beyond commit and a changed vote are caught', async (t) => {
  const c = makeChecker();
  const d = new SimDisk();
  d.writeEntries([entry(1, 1, 1), entry(2, 1, 2)]);
  c.afterStep(node('n1', d, { commit: 2 }));
  t.throws(() => c.afterStep(node('n1', d, { commit: 1 })), /Commit monotonic/);
  t.throws(() => c.afterStep(node('n2', d, { commit: 1 }, 2)), /applied <= committed/);
  const v = new SimDisk();
  v.writeHardState({ term: 4, vote: 'n1', commit: 0 });
  v.sync();
  c.onSynced('n3', v.synced);
  v.writeHardState({ term: 4, vote: 'n2', commit: 0 });
  v.sync();
  t.throws(() => c.onSynced('n3', v.synced), /One vote per term/);
});
