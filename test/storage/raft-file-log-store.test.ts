import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { DrlError } from '../../src/errors.js';
import {
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type SnapshotMeta,
} from '../../src/raft/types.js';
import {
  RaftFileLogStore,
  type RaftFileLogStoreOptions,
} from '../../src/storage/raft-file-log-store.js';
import { entry, range, text } from './raft-log-fixtures.js';

/**
 * Byte-exact file sizes: no zeros written ahead of the records (extendBytes 0), unless a test
 * asks for them (the preallocation tests at the end).
 */
function openStore(dir: string, options: RaftFileLogStoreOptions = {}): RaftFileLogStore {
  return RaftFileLogStore.open(dir, { extendBytes: 0, ...options });
}

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'drl-raftfilelog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const CONF: ConfState = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };

function segName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.seg`;
}

/** The segment files in `dir`, oldest first. */
function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
}

/** The path of the one segment in `dir` (fails the test when there is not exactly one). */
function onlySegment(t: Test, dir: string): string {
  const segs = segments(dir);
  t.equal(segs.length, 1, `one segment in the directory (${segs.join(', ')})`);
  return join(dir, segs[0]!);
}

/** Start offsets of the records in a segment (by their length fields). */
function recordStarts(buf: Buffer): number[] {
  const starts: number[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    starts.push(at);
    at += 8 + buf.readUInt32LE(at);
  }
  return starts;
}

/** Everything the store exposes, for before/after comparisons (not while writes are held). */
function view(s: RaftFileLogStore) {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const terms: number[] = [];
  for (let i = first - 1; i <= last; i++) terms.push(s.term(i));
  const entries =
    last >= first
      ? s.entries(first, last + 1, Number.POSITIVE_INFINITY).map((e) => [e.index, e.term, text(e)])
      : [];
  return {
    first,
    last,
    terms,
    entries,
    hardState: { ...s.hardState },
    snapshot: s.snapshot,
    unwrittenCommit: s.hasUnwrittenCommit(),
  };
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return null;
}

t.test('a new directory gets one segment holding an empty log', async (t) => {
  const dir = join(tempDir(t), 'log');
  const s = openStore(dir);
  t.same(segments(dir), [segName(1)]);
  t.equal(s.firstIndex(), 1);
  t.equal(s.lastIndex(), 0);
  t.equal(s.term(0), 0);
  t.same(s.hardState, { term: 0, vote: null, commit: 0 });
  t.equal(s.snapshot, null);
  t.equal(s.path, dir);
  t.throws(() => s.entries(1, 2, 100), { code: 'internal' });
  t.throws(() => s.term(1), { code: 'internal' });
  s.close();
  const r = openStore(dir);
  t.equal(r.lastIndex(), 0);
  t.same(r.hardState, { term: 0, vote: null, commit: 0 });
  t.same(segments(dir), [segName(1)], 'the reopen kept the segment');
  r.close();
});

t.test('round trip: entries, hard state and snapshot meta survive close and reopen', async (t) => {
  const dir = tempDir(t);
  const big = Buffer.alloc(5000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
  const conf: Entry = {
    index: 4,
    term: 1,
    type: EntryType.ConfChange,
    data: Buffer.from('conf-change'),
  };
  const a = openStore(dir);
  a.persist({
    snapshot: null,
    entries: [entry(1, 1), entry(2, 1, ''), { index: 3, term: 1, type: 0, data: big }, conf],
    hardState: { term: 1, vote: null, commit: 0 },
  });
  a.close();

  const b = openStore(dir);
  t.same(b.hardState, { term: 1, vote: null, commit: 0 }, 'a null vote round trips');
  t.equal(b.lastIndex(), 4);
  const got = b.entries(1, 5, Number.POSITIVE_INFINITY);
  t.same(
    got.map((e) => [e.index, e.term, e.type]),
    [
      [1, 1, EntryType.Normal],
      [2, 1, EntryType.Normal],
      [3, 1, EntryType.Normal],
      [4, 1, EntryType.ConfChange],
    ],
  );
  t.equal(text(got[0]), 'e1');
  t.equal(got[1]!.data.length, 0, 'empty data round trips');
  t.ok(Buffer.from(got[2]!.data).equals(big), 'a 5,000-byte entry round trips');
  t.equal(text(got[3]), 'conf-change');
  b.persist({
    snapshot: null,
    entries: range(5, 20, 2),
    hardState: { term: 2, vote: 'n2-ü', commit: 12 },
  });
  b.close();

  const c = openStore(dir);
  t.same(c.hardState, { term: 2, vote: 'n2-ü', commit: 12 }, 'a (non-ASCII) vote round trips');
  t.equal(c.firstIndex(), 1);
  t.equal(c.lastIndex(), 20);
  t.equal(c.term(0), 0);
  t.equal(c.term(4), 1);
  t.equal(c.term(5), 2);
  t.equal(c.term(20), 2);
  t.throws(() => c.term(21), { code: 'internal' });
  // maxBytes counts entry data: e5..e9 are 2 bytes each, e10.. are 3.
  t.equal(c.entries(5, 21, 0).length, 1, 'at least one entry, whatever maxBytes');
  t.same(c.entries(5, 21, 4).map(text), ['e5', 'e6'], 'a batch exactly at maxBytes');
  t.same(c.entries(5, 21, 5).map(text), ['e5', 'e6'], 'the next entry would pass maxBytes');
  t.same(c.entries(3, 21, 10).map(text), [big.toString()], 'one big entry alone');
  t.same(c.entries(9, 12, 1 << 20).map(text), ['e9', 'e10', 'e11'], 'hi is exclusive');
  t.throws(() => c.entries(0, 2, 100), { code: 'internal' });
  t.throws(() => c.entries(20, 22, 100), { code: 'internal' });
  c.compact({ index: 6, term: 2, conf: CONF });
  c.close();

  const d = openStore(dir);
  t.same(d.snapshot, { index: 6, term: 2, conf: CONF }, 'snapshot meta round trips');
  t.equal(d.firstIndex(), 7);
  t.equal(d.term(6), 2);
  t.same(d.entries(7, 9, 100).map(text), ['e7', 'e8']);
  t.same(d.hardState, { term: 2, vote: 'n2-ü', commit: 12 });
  d.persist({ snapshot: null, entries: [], hardState: { term: 3, vote: null, commit: 12 } });
  d.close();
  const e = openStore(dir);
  t.same(e.hardState, { term: 3, vote: null, commit: 12 }, 'a vote set back to null');
  e.close();
});

t.test('entries spanning more than the 1 MiB read window read back whole', async (t) => {
  const dir = tempDir(t);
  const payload = (index: number, bytes: number): Buffer => {
    const b = Buffer.alloc(bytes, index & 0xff);
    b.writeUInt32LE(index, 0);
    b.writeUInt32LE(index, bytes - 4);
    return b;
  };
  const sizes = new Map<number, number>();
  const s = openStore(dir);
  const first: Entry[] = [];
  for (let i = 1; i <= 300; i++) {
    // Entry 150 is larger than the read window: it gets a read of its own.
    const bytes = i === 150 ? 1536 << 10 : 8192;
    sizes.set(i, bytes);
    first.push({ index: i, term: 1, type: 0, data: payload(i, bytes) });
    if (first.length === 40 || i === 300) {
      s.persist({ snapshot: null, entries: first.splice(0), hardState: null });
    }
  }
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: null, commit: 300 } });
  s.close();

  const r = openStore(dir);
  t.equal(r.lastIndex(), 300);
  const check = (got: Entry[], lo: number): boolean =>
    got.every(
      (e, k) =>
        e.index === lo + k &&
        e.term === 1 &&
        Buffer.from(e.data).equals(payload(e.index, sizes.get(e.index)!)),
    );
  const all = r.entries(1, 301, Number.POSITIVE_INFINITY);
  t.equal(all.length, 300);
  t.ok(check(all, 1), 'every entry whole, with its own data');
  const middle = r.entries(140, 170, Number.POSITIVE_INFINITY);
  t.equal(middle.length, 30);
  t.ok(check(middle, 140), 'a range around the large entry');
  const bounded = r.entries(100, 301, 20 * 8192);
  t.equal(bounded.length, 20, 'maxBytes across windows');
  t.ok(check(bounded, 100));
  const large = r.entries(150, 301, 10);
  t.equal(large.length, 1);
  t.equal(large[0]!.data.length, 1536 << 10, 'the large entry alone');
  t.ok(check(large, 150));
  r.close();
});

t.test('an append at or below lastIndex truncates the conflicting suffix', async (t) => {
  const dir = tempDir(t);
  const s = openStore(dir);
  s.persist({
    snapshot: null,
    entries: range(1, 10, 1),
    hardState: { term: 1, vote: null, commit: 3 },
  });
  s.persist({
    snapshot: null,
    entries: [entry(7, 2, 'x7'), entry(8, 2, 'x8')],
    hardState: { term: 2, vote: 'n1', commit: 3 },
  });
  t.equal(s.lastIndex(), 8, 'entries 9 and 10 are gone');
  t.equal(s.term(6), 1);
  t.equal(s.term(7), 2);
  t.throws(() => s.term(9), { code: 'internal' });
  t.same(s.entries(5, 9, 1 << 20).map(text), ['e5', 'e6', 'x7', 'x8']);
  // A one-entry overwrite of the last entry, and one right above the commit index.
  s.persist({ snapshot: null, entries: [entry(8, 3, 'y8')], hardState: null });
  s.persist({ snapshot: null, entries: [entry(4, 3, 'z4'), entry(5, 3, 'z5')], hardState: null });
  t.equal(s.lastIndex(), 5);
  s.close();

  const r = openStore(dir);
  t.equal(r.lastIndex(), 5, 'the truncation survives a reopen');
  t.same(r.entries(1, 6, 1 << 20).map(text), ['e1', 'e2', 'e3', 'z4', 'z5']);
  t.same(
    [1, 2, 3, 4, 5].map((i) => r.term(i)),
    [1, 1, 1, 3, 3],
  );
  r.persist({ snapshot: null, entries: range(6, 7, 3), hardState: null });
  r.close();
  const again = openStore(dir);
  t.same(again.entries(1, 8, 1 << 20).map(text), ['e1', 'e2', 'e3', 'z4', 'z5', 'e6', 'e7']);
  again.close();
});

t.test('a batch that breaks an invariant throws and leaves the store unchanged', async (t) => {
  const dir = tempDir(t);
  const s = openStore(dir);
  s.persist({
    snapshot: null,
    entries: range(1, 10, 2),
    hardState: { term: 3, vote: 'n1', commit: 4 },
  });
  s.compact({ index: 2, term: 2, conf: CONF });
  const segment = onlySegment(t, dir);
  const before = view(s);
  const bytes = statSync(segment).size;
  const cases: [string, () => void, RegExp][] = [
    [
      'truncating a committed entry',
      () => s.persist({ snapshot: null, entries: [entry(4, 3)], hardState: null }),
      /truncating committed entry 4/,
    ],
    [
      'truncating the whole log above the snapshot',
      () => s.persist({ snapshot: null, entries: [entry(3, 3)], hardState: null }),
      /committed/,
    ],
    [
      'an append at the snapshot index',
      () => s.persist({ snapshot: null, entries: [entry(2, 3)], hardState: null }),
      /append at 2/,
    ],
    [
      'an append leaving a gap',
      () => s.persist({ snapshot: null, entries: [entry(12, 3)], hardState: null }),
      /append at 12/,
    ],
    [
      'non-contiguous entries',
      () => s.persist({ snapshot: null, entries: [entry(11, 3), entry(13, 3)], hardState: null }),
      /not contiguous/,
    ],
    [
      'the term going back',
      () =>
        s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: null, commit: 4 } }),
      /term 3 -> 2/,
    ],
    [
      'the term going back with entries',
      () =>
        s.persist({
          snapshot: null,
          entries: [entry(11, 2)],
          hardState: { term: 2, vote: null, commit: 4 },
        }),
      /term 3 -> 2/,
    ],
    [
      'the commit index going back',
      () =>
        s.persist({ snapshot: null, entries: [], hardState: { term: 3, vote: 'n1', commit: 3 } }),
      /commit 4 -> 3/,
    ],
    [
      'the commit index beyond the last entry',
      () =>
        s.persist({ snapshot: null, entries: [], hardState: { term: 3, vote: 'n1', commit: 11 } }),
      /beyond last 10/,
    ],
    [
      'the commit index beyond the last entry of the batch',
      () =>
        s.persist({
          snapshot: null,
          entries: [entry(8, 3)],
          hardState: { term: 3, vote: 'n1', commit: 9 },
        }),
      /beyond last 8/,
    ],
    [
      'a snapshot older than the current one',
      () =>
        s.persist({ snapshot: { index: 1, term: 1, conf: CONF }, entries: [], hardState: null }),
      /snapshot 1 older than 2/,
    ],
    [
      'a snapshot with a commit index below it',
      () =>
        s.persist({
          snapshot: { index: 8, term: 3, conf: CONF },
          entries: [],
          hardState: { term: 3, vote: 'n1', commit: 5 },
        }),
      /commit 8 -> 5/,
    ],
    [
      'a compaction beyond the last entry',
      () => s.compact({ index: 11, term: 2, conf: CONF }),
      /cannot compact to 11/,
    ],
    [
      'a compaction with the wrong term',
      () => s.compact({ index: 3, term: 3, conf: CONF }),
      /cannot compact to 3\/3/,
    ],
  ];
  for (const [name, run, message] of cases) {
    const err = caught(run);
    t.ok(err instanceof DrlError, `${name}: throws a DrlError`);
    t.equal((err as DrlError).code, 'internal', name);
    t.match((err as DrlError).message, message, name);
    t.same(view(s), before, `${name}: the store is as it was`);
    t.equal(statSync(segment).size, bytes, `${name}: nothing written`);
  }
  s.persist({ snapshot: null, entries: [entry(11, 3)], hardState: null });
  t.equal(s.lastIndex(), 11, 'the store is still usable');
  s.close();
  const r = openStore(dir);
  t.same(view(r), {
    ...before,
    last: 11,
    terms: [...before.terms, 3],
    entries: [...before.entries, [11, 3, 'e11']],
  });
  r.close();
});

t.test('a commit-only batch is kept in memory; the next write and close() write it', async (t) => {
  const dir = tempDir(t);
  const synced: number[] = [];
  const s = openStore(dir, { onSync: (_ms, n) => synced.push(n) });
  s.persist({
    snapshot: null,
    entries: range(1, 6, 1),
    hardState: { term: 1, vote: 'a', commit: 1 },
  });
  const segment = onlySegment(t, dir);
  const bytes = statSync(segment).size;
  const onDisk = (): HardState => {
    // A second store on the same directory reads what the file holds.
    const peek = openStore(dir);
    try {
      return { ...peek.hardState };
    } finally {
      peek.close();
    }
  };
  t.notOk(s.hasUnwrittenCommit());
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 4 } });
  t.equal(s.hardState.commit, 4, 'the commit index moves in memory');
  t.ok(s.hasUnwrittenCommit());
  t.equal(statSync(segment).size, bytes, 'the segment did not grow');
  t.same(synced, [6], 'no fdatasync for the commit-only batch');
  t.equal(onDisk().commit, 1, 'the file holds the older commit index');
  t.throws(
    () => s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 3 } }),
    /commit 4 -> 3/,
    'still checked against the commit index in memory',
  );
  t.throws(
    () => s.persist({ snapshot: null, entries: [entry(4, 1)], hardState: null }),
    /truncating committed entry 4/,
  );
  s.persist({ snapshot: null, entries: [], hardState: null });
  t.equal(statSync(segment).size, bytes, 'an empty batch writes nothing');
  s.persist({ snapshot: null, entries: range(7, 7, 1), hardState: null });
  t.notOk(s.hasUnwrittenCommit(), 'a batch with entries carries the commit index');
  t.ok(statSync(segment).size > bytes);
  t.same(onDisk(), { term: 1, vote: 'a', commit: 4 });
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 6 } });
  t.ok(s.hasUnwrittenCommit());
  s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: null, commit: 6 } });
  t.notOk(s.hasUnwrittenCommit(), 'a new term is written, commit index with it');
  t.same(onDisk(), { term: 2, vote: null, commit: 6 });
  s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: 'b', commit: 6 } });
  t.same(onDisk(), { term: 2, vote: 'b', commit: 6 }, 'a new vote is written');
  t.same(synced, [6, 1, 0, 0], 'one fdatasync per written batch');
  s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: 'b', commit: 7 } });
  const held = statSync(segment).size;
  t.equal(onDisk().commit, 6);
  s.close();
  t.ok(statSync(segment).size > held, 'close() wrote a record');
  t.same(synced, [6, 1, 0, 0], 'close() does not fdatasync (nor count as a sync)');
  const r = openStore(dir);
  t.same(r.hardState, { term: 2, vote: 'b', commit: 7 }, 'the reopen sees the commit index');
  t.notOk(r.hasUnwrittenCommit());
  const closed = statSync(segment).size;
  r.close();
  t.equal(statSync(segment).size, closed, 'close() with nothing held writes nothing');
});

t.test('compact() drops entries up to meta.index and survives a reopen', async (t) => {
  const dir = tempDir(t);
  const synced: number[] = [];
  const s = openStore(dir, { onSync: (_ms, n) => synced.push(n) });
  s.persist({
    snapshot: null,
    entries: [...range(1, 10, 1), ...range(11, 20, 2)],
    hardState: { term: 2, vote: null, commit: 15 },
  });
  const segment = onlySegment(t, dir);
  const bytes = statSync(segment).size;
  s.compact({ index: 12, term: 2, conf: CONF });
  t.equal(s.firstIndex(), 13);
  t.equal(s.lastIndex(), 20);
  t.equal(s.term(12), 2);
  t.throws(() => s.term(11), { code: 'internal' });
  t.throws(() => s.entries(12, 14, 100), { code: 'internal' });
  t.same(s.entries(13, 15, 100).map(text), ['e13', 'e14']);
  t.same(s.snapshot, { index: 12, term: 2, conf: CONF });
  t.same(segments(dir), [segment.slice(dir.length + 1)], 'below segmentBytesMax: same segment');
  t.ok(statSync(segment).size > bytes, 'a compaction record was appended');
  t.same(synced, [20], 'no fdatasync of its own');
  // At or below the snapshot: nothing to do.
  const size = statSync(segment).size;
  s.compact({ index: 12, term: 2, conf: CONF });
  s.compact({ index: 5, term: 1, conf: CONF });
  t.equal(statSync(segment).size, size, 'a compaction at or below the snapshot writes nothing');
  t.equal(s.firstIndex(), 13);
  s.close();

  const r = openStore(dir);
  t.equal(r.firstIndex(), 13);
  t.equal(r.lastIndex(), 20);
  t.equal(r.term(12), 2);
  t.same(r.snapshot, { index: 12, term: 2, conf: CONF });
  t.same(r.entries(13, 21, 1 << 20).map(text), range(13, 20, 2).map(text));
  // Compacting everything leaves an empty log after the snapshot.
  r.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: null, commit: 20 } });
  r.compact({ index: 20, term: 2, conf: CONF });
  t.equal(r.firstIndex(), 21);
  t.equal(r.lastIndex(), 20);
  t.equal(r.term(20), 2);
  r.persist({ snapshot: null, entries: [entry(21, 3)], hardState: null });
  r.close();
  const again = openStore(dir);
  t.equal(again.firstIndex(), 21);
  t.equal(again.term(20), 2);
  t.same(again.entries(21, 22, 100).map(text), ['e21']);
  t.same(again.hardState, { term: 2, vote: null, commit: 20 });
  again.close();
});

t.test('a compaction past segmentBytesMax rolls to a new segment', async (t) => {
  const dir = tempDir(t);
  const synced: number[] = [];
  const open = () => openStore(dir, { segmentBytesMax: 1000, onSync: (_ms, n) => synced.push(n) });
  const s = open();
  const data = (i: number) => `entry-${i}-${'x'.repeat(40)}`;
  for (let i = 1; i <= 30; i += 5) {
    const batch: Entry[] = [];
    for (let j = i; j < i + 5; j++) batch.push(entry(j, 1, data(j)));
    s.persist({
      snapshot: null,
      entries: batch,
      hardState: { term: 1, vote: 'n2', commit: i - 1 },
    });
  }
  t.same(synced, [5, 5, 5, 5, 5, 5], 'onSync for every persist, with its entries');
  t.same(segments(dir), [segName(1)]);
  t.ok(statSync(join(dir, segName(1))).size > 1000);
  // A commit index held in memory goes into the new segment's first record.
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'n2', commit: 28 } });
  t.ok(s.hasUnwrittenCommit());
  s.compact({ index: 20, term: 1, conf: CONF });
  t.same(segments(dir), [segName(2)], 'only the new segment remains');
  t.notOk(s.hasUnwrittenCommit());
  t.ok(statSync(join(dir, segName(2))).size < 1000, 'the new segment holds only the kept entries');
  t.equal(s.firstIndex(), 21);
  t.same(
    s.entries(21, 31, 1 << 20).map(text),
    range(21, 30, 1).map((e) => data(e.index)),
    'the kept entries read back from the new segment',
  );
  s.persist({ snapshot: null, entries: [entry(31, 2, data(31))], hardState: null });
  t.same(synced.at(-1), 1);
  s.close();

  const r = open();
  t.same(segments(dir), [segName(2)]);
  t.equal(r.firstIndex(), 21);
  t.equal(r.lastIndex(), 31);
  t.same(r.hardState, { term: 1, vote: 'n2', commit: 28 });
  t.same(r.snapshot, { index: 20, term: 1, conf: CONF });
  t.equal(r.term(20), 1);
  t.equal(r.term(31), 2);
  t.same(
    r.entries(21, 32, 1 << 20).map(text),
    range(21, 31, 1).map((e) => data(e.index)),
  );
  // A segment below the limit keeps appending compaction records; past it, the next rolls.
  t.ok(statSync(join(dir, segName(2))).size < 1000);
  r.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'n2', commit: 31 } });
  r.compact({ index: 31, term: 2, conf: CONF });
  t.same(segments(dir), [segName(2)], 'below the limit: no roll');
  for (let i = 32; i <= 60; i++) {
    r.persist({ snapshot: null, entries: [entry(i, 2, data(i))], hardState: null });
  }
  r.compact({ index: 31, term: 2, conf: CONF });
  t.same(segments(dir), [segName(2)], 'a no-op compaction does not roll');
  r.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: null, commit: 60 } });
  r.compact({ index: 60, term: 2, conf: CONF });
  t.same(segments(dir), [segName(3)], 'a compaction of everything rolls too');
  t.equal(r.firstIndex(), 61);
  t.equal(r.lastIndex(), 60);
  r.close();
  const again = open();
  t.equal(again.firstIndex(), 61);
  t.equal(again.term(60), 2);
  t.same(again.hardState, { term: 2, vote: null, commit: 60 });
  again.persist({ snapshot: null, entries: [entry(61, 2)], hardState: null });
  t.same(again.entries(61, 62, 10).map(text), ['e61']);
  again.close();
});

t.test('installing a snapshot replaces the log and starts a new segment', async (t) => {
  const dir = tempDir(t);
  const synced: number[] = [];
  const s = openStore(dir, { onSync: (_ms, n) => synced.push(n) });
  s.persist({
    snapshot: null,
    entries: range(1, 5, 1),
    hardState: { term: 1, vote: 'n1', commit: 3 },
  });
  const conf: ConfState = { voters: ['a', 'b', 'c'], learners: ['d'] };
  s.persist({ snapshot: { index: 50, term: 3, conf }, entries: range(51, 52, 3), hardState: null });
  t.same(segments(dir), [segName(2)], 'a new segment, the old one deleted');
  t.same(synced, [5, 2]);
  t.equal(s.firstIndex(), 51);
  t.equal(s.lastIndex(), 52);
  t.equal(s.term(50), 3);
  t.throws(() => s.term(5), { code: 'internal' });
  t.same(s.hardState, { term: 1, vote: 'n1', commit: 50 }, 'commit raised to the snapshot');
  t.same(s.entries(51, 53, 100).map(text), ['e51', 'e52']);
  s.close();

  const r = openStore(dir);
  t.equal(r.firstIndex(), 51);
  t.equal(r.lastIndex(), 52);
  t.equal(r.term(50), 3);
  t.same(r.hardState, { term: 1, vote: 'n1', commit: 50 });
  t.same(r.snapshot, { index: 50, term: 3, conf });
  t.same(r.entries(51, 53, 100).map(text), ['e51', 'e52']);
  // A snapshot inside the log drops the entries after it too; a hard state comes with it.
  r.persist({
    snapshot: { index: 51, term: 3, conf: CONF },
    entries: [],
    hardState: { term: 4, vote: null, commit: 51 },
  });
  t.same(segments(dir), [segName(3)]);
  t.equal(r.firstIndex(), 52);
  t.equal(r.lastIndex(), 51);
  // The same snapshot again (index equal to the current one) is allowed.
  r.persist({
    snapshot: { index: 51, term: 3, conf: CONF },
    entries: [entry(52, 4)],
    hardState: { term: 4, vote: null, commit: 52 },
  });
  t.same(segments(dir), [segName(4)]);
  r.close();
  const again = openStore(dir);
  t.same(again.snapshot, { index: 51, term: 3, conf: CONF });
  t.same(again.hardState, { term: 4, vote: null, commit: 52 });
  t.equal(again.lastIndex(), 52);
  t.same(again.entries(52, 53, 100).map(text), ['e52']);
  again.close();
});

/**
 * A segment of four records: the empty log (a reset), entries 1-10 (commit 2), 11-12 and 13-14
 * (term 2, commit 12).
 */
function threeRecords(dir: string): string {
  const s = openStore(dir);
  s.persist({
    snapshot: null,
    entries: range(1, 10, 1),
    hardState: { term: 1, vote: 'a', commit: 2 },
  });
  s.persist({ snapshot: null, entries: range(11, 12, 1), hardState: null });
  s.persist({
    snapshot: null,
    entries: range(13, 14, 2),
    hardState: { term: 2, vote: null, commit: 12 },
  });
  s.close();
  return join(dir, segments(dir)[0]!);
}

t.test(
  'a torn last record is cut on open, with a warning; zeros after the last are not',
  async (t) => {
    const tears: [string, (path: string) => void][] = [
      ['cut short by 5 bytes', (p) => truncateSync(p, statSync(p).size - 5)],
      ['cut inside its header', (p) => truncateSync(p, recordStarts(readFileSync(p)).at(-1)! + 3)],
      [
        'followed by 4,096 zero bytes',
        (p) => writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.alloc(4096)])),
      ],
      [
        'its payload flipped',
        (p) => {
          const b = readFileSync(p);
          b[b.length - 3]! ^= 0x40;
          writeFileSync(p, b);
        },
      ],
      [
        'its tail zeroed (the length landed, the data did not)',
        (p) => {
          const b = readFileSync(p);
          b.fill(0, recordStarts(b).at(-1)! + 12);
          writeFileSync(p, b);
        },
      ],
    ];
    for (const [name, tear] of tears) {
      await t.test(name, async (t) => {
        const dir = tempDir(t);
        const path = threeRecords(dir);
        const whole = readFileSync(path);
        const lastStart = recordStarts(whole).at(-1)!;
        const zeros = name.includes('zero bytes');
        tear(path);
        const warnings: string[] = [];
        const r = openStore(dir, { warn: (m) => warnings.push(m) });
        if (zeros) {
          // What the store's own zeros written ahead of its records look like: the clean end.
          t.same(warnings, [], 'no warning');
          t.equal(r.lastIndex(), 14, 'every record whole');
          t.same(r.hardState, { term: 2, vote: null, commit: 12 });
          t.equal(statSync(path).size, whole.length + 4096, 'the zeros stay');
        } else {
          t.equal(warnings.length, 1, 'one warning');
          t.match(warnings[0], path);
          t.match(warnings[0], 'torn record');
          t.equal(r.lastIndex(), 12, 'the last record is gone');
          t.same(r.hardState, { term: 1, vote: 'a', commit: 2 }, 'the hard state before it');
          t.equal(statSync(path).size, lastStart, 'the file was cut at the last whole record');
          t.ok(readFileSync(path).equals(whole.subarray(0, lastStart)), 'earlier bytes untouched');
        }
        t.same(r.entries(1, 13, 1 << 20).map(text), range(1, 12, 1).map(text), 'earlier records');
        r.persist({
          snapshot: null,
          entries: [entry(13, 3, 'n13')],
          hardState: { term: 3, vote: 'c', commit: 13 },
        });
        r.close();
        const warned: string[] = [];
        const again = openStore(dir, { warn: (m) => warned.push(m) });
        t.same(warned, [], 'no torn tail the second time');
        t.equal(again.lastIndex(), 13);
        t.equal(again.term(13), 3);
        t.same(again.hardState, { term: 3, vote: 'c', commit: 13 });
        t.same(again.entries(12, 14, 100).map(text), ['e12', 'n13']);
        again.close();
      });
    }
  },
);

t.test('a flipped byte in a record that is not the last is storage_corrupt', async (t) => {
  for (const record of [1, 2]) {
    await t.test(`record ${record} of 4`, async (t) => {
      const dir = tempDir(t);
      const path = threeRecords(dir);
      const b = readFileSync(path);
      const starts = recordStarts(b);
      t.equal(starts.length, 4);
      b[starts[record]! + 20]! ^= 0x01;
      writeFileSync(path, b);
      const warnings: string[] = [];
      const err = caught(() => openStore(dir, { warn: (m) => warnings.push(m) }));
      t.ok(err instanceof DrlError, 'open throws a DrlError');
      t.equal((err as DrlError).code, 'storage_corrupt');
      t.match((err as DrlError).message, path);
      t.match((err as DrlError).message, `record at ${starts[record]}`);
      t.same(warnings, []);
      t.ok(readFileSync(path).equals(b), 'the file is left as it was');
      t.same(segments(dir), [path.slice(dir.length + 1)], 'and not deleted');
    });
  }
  await t.test('a flipped first record of the only segment, followed by others', async (t) => {
    // Not a roll that crashed (nothing follows a first record until it is durable): deleting
    // this segment would restart the node with an empty log, its vote forgotten.
    const dir = tempDir(t);
    const path = threeRecords(dir);
    const b = readFileSync(path);
    b[12]! ^= 0x01;
    writeFileSync(path, b);
    t.throws(() => openStore(dir), { code: 'storage_corrupt' });
    t.ok(readFileSync(path).equals(b), 'the segment is kept');
  });
});

t.test('a newer segment with a torn first record (a roll that crashed) is deleted', async (t) => {
  const torn: [string, (older: Buffer) => Buffer][] = [
    ['an empty file', () => Buffer.alloc(0)],
    ['a few bytes of a header', (older) => older.subarray(0, 5)],
    ['a header and part of the payload', (older) => older.subarray(0, 30)],
    [
      'a whole first record with its last byte flipped',
      (older) => {
        const first = Buffer.from(older.subarray(0, 8 + older.readUInt32LE(0)));
        first[first.length - 1]! ^= 0xff;
        return first;
      },
    ],
    ['zeros where the record should be', (older) => Buffer.alloc(8 + older.readUInt32LE(0))],
  ];
  for (const [name, make] of torn) {
    await t.test(name, async (t) => {
      const dir = tempDir(t);
      const path = threeRecords(dir);
      t.equal(path, join(dir, segName(1)));
      writeFileSync(join(dir, segName(2)), make(readFileSync(path)));
      const r = openStore(dir);
      t.same(segments(dir), [segName(1)], 'the torn segment is deleted');
      t.equal(r.lastIndex(), 14, 'the older segment holds the log');
      t.same(r.hardState, { term: 2, vote: null, commit: 12 });
      r.compact({ index: 12, term: 1, conf: CONF });
      r.persist({ snapshot: { index: 20, term: 3, conf: CONF }, entries: [], hardState: null });
      t.same(segments(dir), [segName(2)], 'the next roll reuses the number');
      r.close();
      const again = openStore(dir);
      t.same(again.snapshot, { index: 20, term: 3, conf: CONF });
      t.equal(again.hardState.commit, 20);
      again.close();
    });
  }
});

t.test('two whole segments (a roll that crashed before the delete): the newer wins', async (t) => {
  const dir = tempDir(t);
  const s = openStore(dir, { segmentBytesMax: 500 });
  s.persist({
    snapshot: null,
    entries: range(1, 40, 1),
    hardState: { term: 1, vote: 'n1', commit: 30 },
  });
  const aside = join(dir, 'aside');
  copyFileSync(join(dir, segName(1)), aside);
  s.compact({ index: 25, term: 1, conf: CONF });
  t.same(segments(dir), [segName(2)], 'the roll deleted the older segment');
  s.close();
  copyFileSync(aside, join(dir, segName(1)));

  const r = openStore(dir, { segmentBytesMax: 500 });
  t.same(segments(dir), [segName(2)], 'the older segment is deleted on open');
  t.equal(r.firstIndex(), 26, 'the newer segment holds the log');
  t.equal(r.lastIndex(), 40);
  t.same(r.snapshot, { index: 25, term: 1, conf: CONF });
  t.same(r.hardState, { term: 1, vote: 'n1', commit: 30 });
  t.same(r.entries(26, 41, 1 << 20).map(text), range(26, 40, 1).map(text));
  r.persist({ snapshot: null, entries: [entry(41, 2)], hardState: null });
  r.close();
  const again = openStore(dir);
  t.equal(again.lastIndex(), 41);
  again.close();
});

t.test('older segments below the newest whole one are deleted unread', async (t) => {
  await t.test('a torn or garbage segment below the newest whole one', async (t) => {
    const dir = tempDir(t);
    const s = openStore(dir);
    s.persist({
      snapshot: { index: 5, term: 2, conf: CONF },
      entries: range(6, 8, 2),
      hardState: null,
    });
    s.persist({
      snapshot: { index: 9, term: 2, conf: CONF },
      entries: range(10, 12, 2),
      hardState: null,
    });
    s.close();
    t.same(segments(dir), [segName(3)]);
    writeFileSync(join(dir, segName(1)), Buffer.alloc(0));
    writeFileSync(join(dir, segName(2)), Buffer.from('not a segment at all, and long enough'));
    const r = openStore(dir);
    t.same(segments(dir), [segName(3)]);
    t.equal(r.firstIndex(), 10);
    t.equal(r.lastIndex(), 12);
    r.close();
  });
  await t.test('a torn segment below a torn newest one is storage_corrupt', async (t) => {
    // Segment n + 1 is created only once segment n is whole: two torn ones are not a crash.
    const dir = tempDir(t);
    const path = threeRecords(dir);
    writeFileSync(join(dir, segName(2)), readFileSync(path).subarray(0, 6));
    writeFileSync(join(dir, segName(3)), Buffer.alloc(0));
    t.throws(() => openStore(dir), {
      code: 'storage_corrupt',
      message: /0000000000000002\.seg: no whole first record/,
    });
    t.same(segments(dir), [segName(1), segName(2), segName(3)], 'nothing deleted');
  });
  await t.test(
    'a lone segment of zeros or nothing (its creation crashed) starts an empty log',
    async (t) => {
      for (const bytes of [Buffer.alloc(0), Buffer.alloc(4096)]) {
        const dir = tempDir(t);
        writeFileSync(join(dir, segName(1)), bytes);
        const r = openStore(dir);
        t.same(segments(dir), [segName(2)]);
        t.equal(r.lastIndex(), 0);
        t.same(r.hardState, { term: 0, vote: null, commit: 0 });
        r.persist({ snapshot: null, entries: [entry(1, 1)], hardState: null });
        r.close();
        const again = openStore(dir);
        t.equal(again.lastIndex(), 1);
        again.close();
      }
    },
  );
  await t.test(
    'a lone segment whose first record is not whole but not zeros is corrupt, not empty',
    async (t) => {
      // Starting empty would forget the term and vote: a node could vote twice in a term.
      const cases: Array<[string, (whole: Buffer) => Buffer]> = [
        ['a few bytes of a header', () => Buffer.from([40, 0, 0])],
        [
          'random bytes',
          () => Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 97 + 13) & 0xff)),
        ],
        [
          'a length field flipped past the end',
          (whole) => {
            const b = Buffer.from(whole);
            b.writeUInt32LE(0x7fff_0000, 0);
            return b;
          },
        ],
      ];
      for (const [name, damage] of cases) {
        const dir = tempDir(t);
        const path = threeRecords(dir);
        const damaged = damage(readFileSync(path));
        writeFileSync(path, damaged);
        const err = caught(() => openStore(dir));
        t.ok(err instanceof DrlError, name);
        t.equal((err as DrlError).code, 'storage_corrupt', name);
        t.match(
          (err as DrlError).message,
          /only segment has no whole first record|a whole record follows/,
        );
        t.ok(readFileSync(path).equals(damaged), `${name}: the file left as it was`);
      }
    },
  );
  await t.test('files that are not segments are left alone', async (t) => {
    const dir = tempDir(t);
    threeRecords(dir);
    writeFileSync(join(dir, 'notes.txt'), 'x');
    writeFileSync(join(dir, '12.seg'), 'x');
    const r = openStore(dir);
    t.equal(r.lastIndex(), 14);
    r.close();
    t.ok(existsSync(join(dir, 'notes.txt')));
    t.ok(existsSync(join(dir, '12.seg')));
  });
});

t.test("holdWrites() (bug 'ack-before-fsync'): held writes are lost until released", async (t) => {
  await t.test('closed while held: the held batches are lost', async (t) => {
    const dir = tempDir(t);
    const synced: number[] = [];
    const s = openStore(dir, { onSync: (_ms, n) => synced.push(n) });
    s.persist({
      snapshot: null,
      entries: range(1, 3, 1),
      hardState: { term: 1, vote: null, commit: 1 },
    });
    const segment = onlySegment(t, dir);
    const bytes = statSync(segment).size;
    s.holdWrites();
    t.same(s.entries(1, 4, 100).map(text), ['e1', 'e2', 'e3'], 'entries() with nothing held');
    s.persist({
      snapshot: null,
      entries: range(4, 6, 1),
      hardState: { term: 2, vote: 'b', commit: 3 },
    });
    s.compact({ index: 2, term: 1, conf: CONF });
    s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: 'b', commit: 5 } });
    t.equal(s.lastIndex(), 6, 'memory moves on');
    t.equal(s.firstIndex(), 3);
    t.same(s.hardState, { term: 2, vote: 'b', commit: 5 });
    t.throws(() => s.entries(3, 4, 100), { code: 'internal', message: /held/ });
    t.equal(statSync(segment).size, bytes, 'nothing reached the file');
    t.same(synced, [3], 'no fdatasync reported while held');
    s.close();
    t.equal(statSync(segment).size, bytes, 'close() does not write held records');
    const r = openStore(dir);
    t.equal(r.firstIndex(), 1);
    t.equal(r.lastIndex(), 3, 'the held entries are lost');
    t.same(r.hardState, { term: 1, vote: null, commit: 1 });
    t.equal(r.snapshot, null);
    r.close();
  });
  await t.test('released: the held batches are written and survive a reopen', async (t) => {
    const dir = tempDir(t);
    const s = openStore(dir, { segmentBytesMax: 1 });
    s.persist({
      snapshot: null,
      entries: range(1, 3, 1),
      hardState: { term: 1, vote: null, commit: 1 },
    });
    s.holdWrites();
    s.persist({
      snapshot: null,
      entries: range(4, 6, 1),
      hardState: { term: 2, vote: 'b', commit: 3 },
    });
    s.compact({ index: 2, term: 1, conf: CONF });
    t.same(segments(dir), [segName(1)], 'no roll while held, whatever segmentBytesMax');
    s.persist({ snapshot: null, entries: [entry(6, 2, 'x6'), entry(7, 2)], hardState: null });
    const peek = openStore(dir);
    t.equal(peek.lastIndex(), 3, 'not on disk yet');
    peek.close();
    s.releaseHeldWrites();
    t.same(s.entries(3, 8, 100).map(text), ['e3', 'e4', 'e5', 'x6', 'e7'], 'readable again');
    s.releaseHeldWrites();
    s.persist({ snapshot: null, entries: [entry(8, 2)], hardState: null });
    s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: 'b', commit: 8 } });
    s.close();
    const r = openStore(dir);
    t.equal(r.firstIndex(), 3);
    t.equal(r.lastIndex(), 8);
    t.same(r.hardState, { term: 2, vote: 'b', commit: 8 });
    t.same(r.entries(3, 9, 100).map(text), ['e3', 'e4', 'e5', 'x6', 'e7', 'e8']);
    r.close();
  });
  await t.test('a snapshot installed while held goes in the current segment', async (t) => {
    const dir = tempDir(t);
    const s = openStore(dir);
    s.persist({
      snapshot: null,
      entries: range(1, 3, 1),
      hardState: { term: 1, vote: null, commit: 1 },
    });
    s.holdWrites();
    s.persist({
      snapshot: { index: 30, term: 2, conf: CONF },
      entries: range(31, 32, 2),
      hardState: null,
    });
    t.same(segments(dir), [segName(1)]);
    s.releaseHeldWrites();
    t.same(s.entries(31, 33, 100).map(text), ['e31', 'e32']);
    s.persist({ snapshot: null, entries: [entry(33, 2)], hardState: null });
    s.close();
    const r = openStore(dir);
    t.same(r.snapshot, { index: 30, term: 2, conf: CONF });
    t.equal(r.firstIndex(), 31);
    t.same(r.entries(31, 34, 100).map(text), ['e31', 'e32', 'e33']);
    t.same(r.hardState, { term: 1, vote: null, commit: 30 });
    r.close();
  });
});

t.test('a store whose write failed refuses further use', async (t) => {
  // A directory squatting on the next segment's name makes the roll's open() fail (EEXIST): a
  // real failed system call, root or not (running as root makes permissions moot).
  const failed = (err: unknown, t: Test) => {
    t.ok(err instanceof DrlError, 'a DrlError');
    t.equal((err as DrlError).code, 'internal');
    t.match((err as DrlError).message, /write failed/);
    t.ok((err as DrlError).cause instanceof Error, 'the system error as the cause');
  };
  const refused = { code: 'internal', message: /unusable after a failed write/ };

  await t.test('a compaction roll', async (t) => {
    const dir = tempDir(t);
    const s = openStore(dir, { segmentBytesMax: 100 });
    s.persist({
      snapshot: null,
      entries: range(1, 40, 1),
      hardState: { term: 1, vote: 'a', commit: 30 },
    });
    s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 35 } });
    mkdirSync(join(dir, segName(2)));
    failed(
      caught(() => s.compact({ index: 20, term: 1, conf: CONF })),
      t,
    );
    t.throws(() => s.compact({ index: 25, term: 1, conf: CONF }), refused, 'compact');
    t.throws(
      () => s.persist({ snapshot: null, entries: [entry(41, 1)], hardState: null }),
      refused,
      'persist',
    );
    t.throws(
      () =>
        s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 36 } }),
      refused,
      'a commit-only persist',
    );
    const bytes = statSync(join(dir, segName(1))).size;
    s.close();
    t.equal(statSync(join(dir, segName(1))).size, bytes, 'close() writes nothing after a failure');
    rmSync(join(dir, segName(2)), { recursive: true });
    const r = openStore(dir);
    t.same(segments(dir), [segName(1)]);
    t.equal(r.snapshot, null, 'the failed compaction is not on disk');
    t.equal(r.firstIndex(), 1);
    t.equal(r.lastIndex(), 40);
    t.same(r.hardState, { term: 1, vote: 'a', commit: 30 }, 'the commit index in memory lost');
    r.close();
  });

  await t.test('a snapshot install', async (t) => {
    const dir = tempDir(t);
    const s = openStore(dir);
    s.persist({
      snapshot: null,
      entries: range(1, 5, 1),
      hardState: { term: 1, vote: 'a', commit: 2 },
    });
    mkdirSync(join(dir, segName(2)));
    failed(
      caught(() =>
        s.persist({ snapshot: { index: 10, term: 1, conf: CONF }, entries: [], hardState: null }),
      ),
      t,
    );
    t.throws(
      () => s.persist({ snapshot: null, entries: [entry(11, 1)], hardState: null }),
      refused,
      'persist',
    );
    s.close();
    rmSync(join(dir, segName(2)), { recursive: true });
    const r = openStore(dir);
    t.equal(r.snapshot, null, 'the failed snapshot install is not on disk');
    t.equal(r.lastIndex(), 5);
    t.same(r.hardState, { term: 1, vote: 'a', commit: 2 });
    r.close();
  });
});

// --- Randomized: the store against an in-memory model ---------------------------------------

interface Model {
  snapshot: SnapshotMeta | null;
  /** Entries snapIndex + 1 ... */
  log: Entry[];
  hardState: HardState;
  /** The commit index in the last record written (what a crash leaves). */
  writtenCommit: number;
  unwrittenCommit: boolean;
}

type Op =
  | {
      op: 'append';
      at: number;
      n: number;
      bump: boolean;
      vote: string | null;
      hs: boolean;
      commit: number;
      size: number;
    }
  | { op: 'commit'; to: number }
  | { op: 'term'; vote: string | null }
  | { op: 'compact'; to: number }
  | { op: 'snapshot'; ahead: number; n: number; hs: boolean; commit: number }
  | { op: 'reopen' }
  | { op: 'crash' }
  | { op: 'invalid'; which: number };

const voteArb = fc.constantFrom(null, 'n1', 'n2', 'n3');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      at: fc.nat(),
      n: fc.integer({ min: 1, max: 5 }),
      bump: fc.boolean(),
      vote: voteArb,
      hs: fc.boolean(),
      commit: fc.nat(),
      size: fc.nat({ max: 120 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('commit' as const), to: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('term' as const), vote: voteArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('compact' as const), to: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('snapshot' as const),
      ahead: fc.nat(),
      n: fc.nat({ max: 3 }),
      hs: fc.boolean(),
      commit: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('crash' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalid' as const), which: fc.nat() }) },
);

function modelSnapIndex(m: Model): number {
  return m.snapshot?.index ?? 0;
}

function modelLast(m: Model): number {
  return modelSnapIndex(m) + m.log.length;
}

function modelTerm(m: Model, index: number): number {
  return index === modelSnapIndex(m)
    ? (m.snapshot?.term ?? 0)
    : m.log[index - modelSnapIndex(m) - 1]!.term;
}

function checkAgainst(s: RaftFileLogStore, m: Model, step: string): void {
  const snapIndex = modelSnapIndex(m);
  const last = modelLast(m);
  assert.equal(s.firstIndex(), snapIndex + 1, `${step}: firstIndex`);
  assert.equal(s.lastIndex(), last, `${step}: lastIndex`);
  for (let i = snapIndex; i <= last; i++)
    assert.equal(s.term(i), modelTerm(m, i), `${step}: term(${i})`);
  assert.throws(() => s.term(last + 1), DrlError);
  if (snapIndex > 0) assert.throws(() => s.term(snapIndex - 1), DrlError);
  assert.deepEqual({ ...s.hardState }, m.hardState, `${step}: hard state`);
  assert.deepEqual(s.snapshot, m.snapshot, `${step}: snapshot`);
  assert.equal(s.hasUnwrittenCommit(), m.unwrittenCommit, `${step}: unwritten commit`);
  if (last > snapIndex) {
    const got = s.entries(snapIndex + 1, last + 1, Number.POSITIVE_INFINITY);
    assert.equal(got.length, m.log.length, `${step}: entries()`);
    for (let k = 0; k < got.length; k++) {
      const want = m.log[k]!;
      assert.equal(got[k]!.index, want.index, `${step}: entry index`);
      assert.equal(got[k]!.term, want.term, `${step}: entry ${want.index} term`);
      assert.ok(Buffer.from(got[k]!.data).equals(want.data), `${step}: entry ${want.index} data`);
    }
    const lo = snapIndex + 1 + Math.floor(m.log.length / 2);
    const bounded = s.entries(lo, last + 1, 100);
    let bytes = 0;
    let n = 0;
    for (const e of m.log.slice(lo - snapIndex - 1)) {
      bytes += e.data.length;
      if (n > 0 && bytes > 100) break;
      n++;
    }
    assert.equal(bounded.length, n, `${step}: entries() bounded by maxBytes`);
  }
}

t.test('randomized operations agree with an in-memory model', async (t) => {
  const root = tempDir(t);
  let run = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (ops) => {
      const dir = join(root, `run-${run++}`);
      const open = () => openStore(dir, { segmentBytesMax: 600 });
      let s = open();
      const m: Model = {
        snapshot: null,
        log: [],
        hardState: { term: 0, vote: null, commit: 0 },
        writtenCommit: 0,
        unwrittenCommit: false,
      };
      const written = () => {
        m.writtenCommit = m.hardState.commit;
        m.unwrittenCommit = false;
      };
      try {
        checkAgainst(s, m, 'open');
        ops.forEach((o, step) => {
          const where = `step ${step} ${JSON.stringify(o)}`;
          const snapIndex = modelSnapIndex(m);
          const last = modelLast(m);
          const hs = m.hardState;
          switch (o.op) {
            case 'append': {
              const lo = Math.max(snapIndex, hs.commit) + 1;
              const first = lo + (o.at % (last + 2 - lo));
              const term = Math.max(1, hs.term + (o.bump ? 1 : 0));
              const entries: Entry[] = [];
              for (let i = 0; i < o.n; i++) {
                const index = first + i;
                const data = Buffer.from(
                  `${index}/${term}/${step};`.repeat(Math.ceil(((o.size + i) % 121) / 8)),
                );
                entries.push({ index, term, type: EntryType.Normal, data });
              }
              const newLast = first + o.n - 1;
              let hardState: HardState | null = null;
              if (o.hs || term !== hs.term) {
                const commit = hs.commit + (o.commit % (newLast - hs.commit + 1));
                hardState = { term, vote: term !== hs.term ? o.vote : hs.vote, commit };
              }
              s.persist({ snapshot: null, entries, hardState });
              m.log.length = first - snapIndex - 1;
              m.log.push(...entries);
              if (hardState) m.hardState = hardState;
              written();
              break;
            }
            case 'commit': {
              const commit = hs.commit + (o.to % (last - hs.commit + 1));
              s.persist({ snapshot: null, entries: [], hardState: { ...hs, commit } });
              m.hardState = { ...hs, commit };
              m.unwrittenCommit = true;
              break;
            }
            case 'term': {
              const hardState = { term: hs.term + 1, vote: o.vote, commit: hs.commit };
              s.persist({ snapshot: null, entries: [], hardState });
              m.hardState = hardState;
              written();
              break;
            }
            case 'compact': {
              if (hs.commit <= snapIndex) {
                // Nothing committed past the snapshot: a compaction to it is a no-op.
                if (m.snapshot) s.compact(m.snapshot);
                break;
              }
              const index = snapIndex + 1 + (o.to % (hs.commit - snapIndex));
              const meta = {
                index,
                term: modelTerm(m, index),
                conf: { voters: [`n${index % 4}`], learners: index % 2 ? ['l1'] : [] },
              };
              s.compact(meta);
              m.log = m.log.slice(index - snapIndex);
              m.snapshot = meta;
              written();
              break;
            }
            case 'snapshot': {
              // Never below the commit index (Raft installs only a snapshot past its commit).
              const base = Math.max(snapIndex, hs.commit);
              const index = base + (o.ahead % (last - base + 6));
              const term = Math.max(1, hs.term);
              const meta = { index, term, conf: { voters: ['a', `b${index}`], learners: [] } };
              const entries = range(index + 1, index + o.n, term);
              const floor = Math.max(hs.commit, index);
              const hardState = o.hs
                ? { term, vote: hs.vote, commit: floor + (o.commit % (index + o.n - floor + 1)) }
                : null;
              s.persist({ snapshot: meta, entries, hardState });
              m.snapshot = meta;
              m.log = entries;
              m.hardState = hardState ?? { ...hs, commit: floor };
              written();
              break;
            }
            case 'reopen':
              s.close();
              s = open();
              written();
              break;
            case 'crash':
              // Held writes and an unwritten commit index are what a process crash loses.
              s.holdWrites();
              s.close();
              s = open();
              m.hardState = { ...m.hardState, commit: m.writtenCommit };
              m.unwrittenCommit = false;
              break;
            case 'invalid': {
              const bad: (() => void)[] = [
                () =>
                  s.persist({
                    snapshot: null,
                    entries: [entry(last + 2, hs.term)],
                    hardState: null,
                  }),
                () =>
                  s.persist({
                    snapshot: null,
                    entries: [],
                    hardState: { ...hs, commit: last + 1 },
                  }),
              ];
              if (hs.commit > snapIndex) {
                bad.push(() =>
                  s.persist({
                    snapshot: null,
                    entries: [entry(hs.commit, hs.term + 1)],
                    hardState: null,
                  }),
                );
              }
              if (hs.commit > 0) {
                bad.push(() =>
                  s.persist({
                    snapshot: null,
                    entries: [],
                    hardState: { ...hs, commit: hs.commit - 1 },
                  }),
                );
              }
              if (hs.term > 0) {
                bad.push(() =>
                  s.persist({
                    snapshot: null,
                    entries: [],
                    hardState: { ...hs, term: hs.term - 1 },
                  }),
                );
              }
              if (snapIndex > 0) {
                bad.push(() =>
                  s.persist({
                    snapshot: { index: snapIndex - 1, term: 1, conf: CONF },
                    entries: [],
                    hardState: null,
                  }),
                );
              }
              assert.throws(bad[o.which % bad.length]!, { code: 'internal' }, where);
              break;
            }
          }
          checkAgainst(s, m, where);
          assert.equal(segments(dir).length, 1, `${where}: one segment`);
        });
        s.close();
        s = open();
        written();
        checkAgainst(s, m, 'final reopen');
      } finally {
        s.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 50 },
  );
  t.pass('50 runs agree with the model');
});

// Zeros written ahead of the records (extendBytes): the file's size changes once per extension,
// not with every fdatasync. These tests open the store with them; the others do not.

/** Bytes of whole records at the start of a segment (up to the first zero header). */
function recordBytes(buf: Buffer): number {
  let at = 0;
  while (at + 8 <= buf.length && buf.readUInt32LE(at) !== 0) at += 8 + buf.readUInt32LE(at);
  return at;
}

/** A segment of `count` one-entry records; its bytes and where each record starts. */
function oneEntryRecords(dir: string, count: number, extendBytes: number) {
  const s = RaftFileLogStore.open(dir, { extendBytes });
  for (let i = 1; i <= count; i++) {
    s.persist({
      snapshot: null,
      entries: [entry(i, 1)],
      hardState: { term: 1, vote: 'a', commit: i - 1 },
    });
  }
  s.close();
  const path = join(dir, segments(dir)[0]!);
  const buf = readFileSync(path);
  return { path, buf, starts: recordStarts(buf.subarray(0, recordBytes(buf))) };
}

t.test('zeros ahead of the records: the file grows in steps and reopens clean', async (t) => {
  const dir = tempDir(t);
  const step = 4096;
  const s = RaftFileLogStore.open(dir, { extendBytes: step });
  const path = join(dir, segments(dir)[0]!);
  t.equal(statSync(path).size, step, 'a new segment: one step');
  const sizes = new Set<number>();
  for (let i = 1; i <= 200; i++) {
    s.persist({
      snapshot: null,
      entries: [entry(i, 1, `entry-${i}-`.padEnd(60, 'x'))],
      hardState: { term: 1, vote: 'a', commit: i - 1 },
    });
    sizes.add(statSync(path).size);
  }
  const used = recordBytes(readFileSync(path));
  const size = statSync(path).size;
  t.equal(size % step, 0, 'the size is a whole number of steps');
  t.ok(size >= used && size - used < step, `records ${used} B within ${size} B`);
  t.ok(sizes.size < 10, `the size changed ${sizes.size} times in 200 writes`);
  const before = view(s);
  s.close();
  const warnings: string[] = [];
  const r = RaftFileLogStore.open(dir, { extendBytes: step, warn: (m) => warnings.push(m) });
  t.same(warnings, [], 'the zeros are the clean end, not a torn tail');
  t.same(view(r), before);
  r.persist({
    snapshot: null,
    entries: [entry(201, 2)],
    hardState: { term: 2, vote: 'b', commit: 200 },
  });
  t.equal(statSync(path).size, size, 'written into the zeros');
  r.close();
  const again = RaftFileLogStore.open(dir, { extendBytes: step });
  t.equal(again.lastIndex(), 201);
  t.same(again.hardState, { term: 2, vote: 'b', commit: 200 });
  again.close();
});

t.test('zeros ahead of the records: a torn record among them is cut', async (t) => {
  const dir = tempDir(t);
  const s = RaftFileLogStore.open(dir, { extendBytes: 4096 });
  s.persist({
    snapshot: null,
    entries: range(1, 5, 1),
    hardState: { term: 1, vote: 'a', commit: 1 },
  });
  s.persist({
    snapshot: null,
    entries: range(6, 9, 1),
    hardState: { term: 1, vote: 'a', commit: 5 },
  });
  s.close();
  const path = join(dir, segments(dir)[0]!);
  const b = readFileSync(path);
  const starts = recordStarts(b.subarray(0, recordBytes(b)));
  const last = starts.at(-1)!;
  b.fill(0, last + 20, recordBytes(b)); // its length landed, the end of its data did not
  writeFileSync(path, b);
  const warnings: string[] = [];
  const r = RaftFileLogStore.open(dir, { extendBytes: 4096, warn: (m) => warnings.push(m) });
  t.equal(warnings.length, 1);
  t.match(warnings[0], 'torn record');
  t.equal(r.lastIndex(), 5, 'the torn record is gone');
  t.same(r.hardState, { term: 1, vote: 'a', commit: 1 });
  t.equal(statSync(path).size, last, 'the file cut where it started');
  r.persist({
    snapshot: null,
    entries: range(6, 7, 2),
    hardState: { term: 2, vote: 'b', commit: 5 },
  });
  r.close();
  const again = RaftFileLogStore.open(dir, { extendBytes: 4096, warn: (m) => warnings.push(m) });
  t.equal(warnings.length, 1, 'no second warning');
  t.equal(again.lastIndex(), 7);
  t.same(
    again.entries(5, 8, 1 << 20).map((e) => e.term),
    [1, 2, 2],
  );
  again.close();
});

t.test('zeros ahead of the records: a zeroed record before whole ones is corrupt', async (t) => {
  const dir = tempDir(t);
  const { path, buf: b, starts } = oneEntryRecords(dir, 3, 4096);
  b.fill(0, starts[1]!, starts[2]!); // the second record gone, the third still there
  writeFileSync(path, b);
  const err = caught(() => RaftFileLogStore.open(dir, { extendBytes: 4096 }));
  t.ok(err instanceof DrlError);
  t.equal((err as DrlError).code, 'storage_corrupt');
  t.ok(readFileSync(path).equals(b), 'the file left as it was');
});

t.test('zeros ahead of the records: a roll and held writes', async (t) => {
  const dir = tempDir(t);
  const s = RaftFileLogStore.open(dir, { extendBytes: 4096, segmentBytesMax: 500 });
  s.persist({
    snapshot: null,
    entries: range(1, 40, 1),
    hardState: { term: 1, vote: 'a', commit: 30 },
  });
  s.compact({ index: 20, term: 1, conf: CONF });
  t.same(segments(dir), [segName(2)], 'rolled');
  t.equal(statSync(join(dir, segName(2))).size, 4096, 'the new segment has its zeros');
  s.holdWrites();
  s.persist({
    snapshot: null,
    entries: range(41, 45, 2),
    hardState: { term: 2, vote: 'b', commit: 40 },
  });
  s.releaseHeldWrites();
  const before = view(s);
  s.close();
  const warnings: string[] = [];
  const r = RaftFileLogStore.open(dir, { extendBytes: 4096, warn: (m) => warnings.push(m) });
  t.same(warnings, []);
  t.same(view(r), before);
  t.equal(r.firstIndex(), 21);
  t.equal(r.lastIndex(), 45);
  r.close();
});

/** persistAsync as a promise: resolves with whether a write was posted, once it is durable. */
function persistAsync(
  s: RaftFileLogStore,
  b: Parameters<RaftFileLogStore['persistAsync']>[0],
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const posted = s.persistAsync(b, (err) => {
      answered = true;
      if (err) reject(err);
      else resolve(true);
    });
    if (answered) reject(new Error('done ran inside persistAsync'));
    if (!posted) resolve(false);
  });
}

t.test('persistAsync: written at once, durable when done runs, one at a time', async (t) => {
  const dir = tempDir(t);
  const synced: number[] = [];
  const s = openStore(dir, { onSync: (_ms, n) => synced.push(n) });
  const first = persistAsync(s, {
    snapshot: null,
    entries: range(1, 5, 1),
    hardState: { term: 1, vote: 'a', commit: 0 },
  });
  t.equal(s.writesInFlight(), 1, 'in flight until its fdatasync is done');
  t.equal(s.lastIndex(), 5, 'the view moved at once');
  t.same(s.entries(1, 6, 1 << 20).map(text), range(1, 5, 1).map(text), 'readable at once');
  t.throws(
    () => s.persistAsync({ snapshot: null, entries: [entry(6, 1)], hardState: null }, () => {}),
    { code: 'internal', message: /already in flight/ },
  );
  t.equal(await first, true);
  t.equal(s.writesInFlight(), 0);
  t.same(synced, [5]);
  const commitOnly = { snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 3 } };
  t.equal(await persistAsync(s, commitOnly), false, 'a commit-only batch posts nothing');
  // A compaction while a write is in flight appends a record instead of rolling (the roll
  // would close the descriptor under the running fdatasync); the next compaction rolls.
  const small = openStore(join(dir, 'small'), { segmentBytesMax: 1 });
  small.persist({
    snapshot: null,
    entries: range(1, 8, 1),
    hardState: { term: 1, vote: null, commit: 6 },
  });
  const flying = persistAsync(small, { snapshot: null, entries: [entry(9, 1)], hardState: null });
  small.compact({ index: 3, term: 1, conf: CONF });
  t.same(segments(join(dir, 'small')), [segName(1)], 'no roll while in flight');
  await flying;
  small.compact({ index: 5, term: 1, conf: CONF });
  t.same(segments(join(dir, 'small')), [segName(2)], 'the next one rolls');
  small.close();
  // close() while a write is in flight: the descriptor closes after it, the write is whole.
  const last = persistAsync(s, {
    snapshot: null,
    entries: [entry(6, 2)],
    hardState: { term: 2, vote: 'b', commit: 5 },
  });
  s.close();
  t.equal(await last, true, 'the write in flight still completes');
  const again = openStore(dir);
  t.equal(again.lastIndex(), 6);
  t.equal(again.term(6), 2);
  t.same(again.hardState, { term: 2, vote: 'b', commit: 5 });
  again.close();
  const reSmall = openStore(join(dir, 'small'));
  t.equal(reSmall.firstIndex(), 6);
  t.equal(reSmall.lastIndex(), 9);
  reSmall.close();
});

t.test('a segment is created under a temporary name; a leftover one is deleted', async (t) => {
  const dir = tempDir(t);
  const path = threeRecords(dir);
  // A roll that crashed before its rename: the temporary file, whatever it holds, is not a segment.
  writeFileSync(join(dir, `${segName(2)}.tmp`), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const r = openStore(dir, { segmentBytesMax: 1 });
  t.equal(r.lastIndex(), 14, 'the whole segment holds the log');
  t.same(readdirSync(dir).sort(), [segName(1)], 'the leftover is gone');
  r.compact({ index: 10, term: 1, conf: CONF });
  t.same(readdirSync(dir).sort(), [segName(2)], 'a roll leaves no temporary file');
  r.close();
  t.notOk(existsSync(path));
  const again = openStore(dir);
  t.equal(again.firstIndex(), 11);
  t.equal(again.lastIndex(), 14);
  again.close();
});

t.test(
  'a damaged length field is corruption, not a torn tail, when whole records follow',
  async (t) => {
    for (const [name, extendBytes] of [
      ['growing file', 0],
      ['zeros ahead', 4096],
    ] as const) {
      const dir = tempDir(t);
      const { path, buf: b, starts } = oneEntryRecords(dir, 4, extendBytes);
      // The second record claims to run past the end of the file (before: read as torn, and the
      // acknowledged records after it were cut without a word).
      b.writeUInt32LE(b.length, starts[1]!);
      writeFileSync(path, b);
      const err = caught(() => RaftFileLogStore.open(dir, { extendBytes }));
      t.ok(err instanceof DrlError, name);
      t.equal((err as DrlError).code, 'storage_corrupt', name);
      t.match((err as DrlError).message, `a whole record follows at ${starts[2]}`, name);
      t.ok(readFileSync(path).equals(b), `${name}: the file left as it was`);
    }
  },
);
