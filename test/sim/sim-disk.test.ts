import t from 'tap';
import { type Entry, EntryType } from '../../src/raft/types.js';
import { lastIndex, prefixHashAt, SimDisk } from './sim-disk.js';

function entry(index: number, term: number, byte = 0): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array([byte]) };
}

t.test('a crash keeps what was synced and loses what was only written', async (t) => {
  const disk = new SimDisk();
  disk.writeEntries([entry(1, 1), entry(2, 1)]);
  disk.writeHardState({ term: 1, vote: 'n1', commit: 1 });
  disk.sync();
  disk.writeEntries([entry(3, 1)]);
  disk.writeHardState({ term: 2, vote: 'n2', commit: 2 });
  t.equal(lastIndex(disk.written), 3);
  t.equal(disk.crash(), 2, 'two unsynced writes lost');
  t.equal(lastIndex(disk.written), 2);
  t.same(disk.written.hardState, { term: 1, vote: 'n1', commit: 1 });
  t.same(disk.synced.hardState, { term: 1, vote: 'n1', commit: 1 });
});

t.test('an append overwrites the conflicting suffix and re-chains the prefix hash', async (t) => {
  const disk = new SimDisk();
  disk.writeEntries([entry(1, 1), entry(2, 1), entry(3, 1)]);
  const before = prefixHashAt(disk.written, 3);
  disk.writeEntries([entry(2, 2)]);
  t.equal(lastIndex(disk.written), 2);
  t.equal(disk.written.entries[1]?.term, 2);
  const other = new SimDisk();
  other.writeEntries([entry(1, 1), entry(2, 2)]);
  t.equal(prefixHashAt(disk.written, 2), prefixHashAt(other.written, 2), 'same log, same hash');
  t.not(prefixHashAt(disk.written, 2), undefined);
  t.not(before, prefixHashAt(disk.written, 2));
  t.throws(() => disk.writeEntries([entry(5, 2)]), /gap/);
});
