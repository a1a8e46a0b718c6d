import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { crc32 } from '../../src/crc32.js';
import { DrlError } from '../../src/errors.js';
import {
  entryChecksum,
  entryChecksumPortable,
  textChecksum,
} from '../../src/storage/raft-crc32.js';
import { RaftLogStore } from '../../src/storage/raft-log-store.js';
import { entry, range, text } from './raft-log-fixtures.js';

function tempDb(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'drl-raftlog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'raft.db');
}

t.test('crc32 matches the IEEE check value', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  t.equal(crc32(new Uint8Array(0)), 0);
});

t.test('entry checksums: node:zlib and the portable table give the same values', async (t) => {
  // A file written on a runtime without zlib.crc32 must verify on one with it, and back.
  let seed = 7;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < 200; i++) {
    const data = new Uint8Array(next() % 300);
    for (let j = 0; j < data.length; j++) data[j] = next() & 0xff;
    const index = next() % 1_000_000;
    const term = next() % 50;
    const type = next() % 3;
    const a = entryChecksum(index, term, type, data);
    t.equal(a, entryChecksumPortable(index, term, type, data));
    t.ok(a >= 0 && a <= 0xffffffff, 'unsigned 32-bit');
  }
  t.equal(textChecksum('123456789'), 0xcbf43926);
  // An empty blob read back from SQLite (a Buffer with no data pointer) checks like any other.
  const db = new Database(':memory:');
  const empty = (db.prepare("SELECT x'' AS b").get() as { b: Buffer }).b;
  db.close();
  t.equal(empty.length, 0);
  t.equal(entryChecksum(3, 1, 0, empty), entryChecksumPortable(3, 1, 0, new Uint8Array(0)));
  t.equal(textChecksum('ü|é'), crc32(Buffer.from('ü|é', 'utf8')));
});

t.test('entries with empty data survive a reopen (their checksums verify)', async (t) => {
  const path = tempDb(t);
  const s = RaftLogStore.open(path);
  s.persist({
    snapshot: null,
    entries: [entry(1, 1, ''), entry(2, 1), entry(3, 1, '')],
    hardState: { term: 1, vote: null, commit: 3 },
  });
  s.close();
  const r = RaftLogStore.open(path);
  t.equal(r.lastIndex(), 3);
  t.equal(text(r.entries(3, 4, 100)[0]), '');
  r.close();
});

t.test(
  'batches of every size 1-130 are written whole, in order (multi-row INSERT pieces)',
  async (t) => {
    const path = tempDb(t);
    const a = RaftLogStore.open(path);
    let next = 1;
    for (let size = 1; size <= 130; size++) {
      a.persist({ snapshot: null, entries: range(next, next + size - 1, 1), hardState: null });
      next += size;
    }
    a.close();
    const b = RaftLogStore.open(path);
    t.equal(b.lastIndex(), next - 1);
    const all = b.entries(1, next, 1 << 30);
    t.equal(all.length, next - 1);
    t.ok(
      all.every((e, i) => e.index === i + 1 && text(e) === `e${i + 1}`),
      'every index once, with its own data',
    );
    b.close();
  },
);

t.test('recovers entries, hard state and snapshot meta from disk alone', async (t) => {
  const path = tempDb(t);
  const a = RaftLogStore.open(path);
  a.persist({
    snapshot: null,
    entries: range(1, 100, 1),
    hardState: { term: 1, vote: 'n1', commit: 0 },
  });
  a.persist({
    snapshot: null,
    entries: range(101, 150, 2),
    hardState: { term: 2, vote: 'n2', commit: 120 },
  });
  a.close();
  const b = RaftLogStore.open(path);
  t.same(b.hardState, { term: 2, vote: 'n2', commit: 120 });
  t.equal(b.firstIndex(), 1);
  t.equal(b.lastIndex(), 150);
  t.equal(b.term(100), 1);
  t.equal(b.term(101), 2);
  const got = b.entries(99, 103, 1 << 20);
  t.same(
    got.map((e) => [e.index, e.term, text(e)]),
    [
      [99, 1, 'e99'],
      [100, 1, 'e100'],
      [101, 2, 'e101'],
      [102, 2, 'e102'],
    ],
  );
  t.equal(b.entries(1, 151, 1).length, 1, 'maxBytes still returns one entry');
  t.equal(b.entries(1, 151, 10).length, 5, 'maxBytes bounds the batch');
  b.compact({ index: 110, term: 2, conf: { voters: ['n1', 'n2', 'n3'], learners: [] } });
  b.close();
  const c = RaftLogStore.open(path);
  t.equal(c.firstIndex(), 111);
  t.equal(c.lastIndex(), 150);
  t.equal(c.term(110), 2);
  t.same(c.snapshot?.conf.voters, ['n1', 'n2', 'n3']);
  t.equal(text(c.entries(111, 112, 100)[0]), 'e111');
  t.throws(() => c.entries(100, 112, 100), DrlError);
  c.close();
});

t.test('append truncates a conflicting suffix, but never a committed entry', async (t) => {
  const path = tempDb(t);
  const s = RaftLogStore.open(path);
  s.persist({
    snapshot: null,
    entries: range(1, 10, 1),
    hardState: { term: 1, vote: null, commit: 5 },
  });
  s.persist({
    snapshot: null,
    entries: [entry(7, 2, 'x7'), entry(8, 2, 'x8')],
    hardState: { term: 2, vote: null, commit: 5 },
  });
  t.equal(s.lastIndex(), 8);
  t.equal(s.term(7), 2);
  t.equal(text(s.entries(6, 9, 1 << 20)[1]), 'x7');
  t.throws(() => s.persist({ snapshot: null, entries: [entry(5, 3)], hardState: null }), {
    code: 'internal',
  });
  t.equal(s.lastIndex(), 8, 'failed persist leaves memory as it was');
  t.throws(
    () => s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: null, commit: 5 } }),
    {
      code: 'internal',
    },
  );
  s.close();
  const r = RaftLogStore.open(path);
  t.equal(r.lastIndex(), 8);
  t.same(r.entries(1, 9, 1 << 20).map(text), ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'x7', 'x8']);
  r.close();
});

t.test(
  'a flipped committed entry is reported as storage_corrupt with file and index',
  async (t) => {
    const path = tempDb(t);
    const s = RaftLogStore.open(path);
    s.persist({
      snapshot: null,
      entries: range(1, 20, 1),
      hardState: { term: 1, vote: null, commit: 15 },
    });
    s.persist({
      snapshot: null,
      entries: range(21, 30, 1),
      hardState: { term: 1, vote: null, commit: 25 },
    });
    s.close();
    const evil = new Database(path);
    evil.prepare("UPDATE raft_entries SET data = x'00ff' WHERE idx = 7").run();
    evil.close();
    const err = (() => {
      try {
        RaftLogStore.open(path).close();
        return null;
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof DrlError);
    t.equal((err as DrlError).code, 'storage_corrupt');
    t.match((err as DrlError).message, path);
    t.match((err as DrlError).message, 'entry 7');
  },
);

t.test(
  'a bad uncommitted row followed by older batches is corruption, not a torn tail',
  async (t) => {
    const path = tempDb(t);
    const s = RaftLogStore.open(path);
    s.persist({
      snapshot: null,
      entries: range(1, 10, 1),
      hardState: { term: 1, vote: null, commit: 2 },
    });
    s.persist({ snapshot: null, entries: range(11, 12, 1), hardState: null });
    s.close();
    const evil = new Database(path);
    evil.prepare('UPDATE raft_entries SET term = 9 WHERE idx = 5').run();
    evil.close();
    t.throws(() => RaftLogStore.open(path), { code: 'storage_corrupt', message: /entry 5/ });
  },
);

t.test('a torn tail (bad rows only in the last batch, above commit) is truncated', async (t) => {
  const path = tempDb(t);
  const s = RaftLogStore.open(path);
  s.persist({
    snapshot: null,
    entries: range(1, 10, 1),
    hardState: { term: 1, vote: null, commit: 8 },
  });
  s.persist({ snapshot: null, entries: range(11, 14, 1), hardState: null });
  s.close();
  const evil = new Database(path);
  evil.prepare("UPDATE raft_entries SET data = x'0102' WHERE idx = 13").run();
  evil.close();
  const warnings: string[] = [];
  const r = RaftLogStore.open(path, { warn: (m) => warnings.push(m) });
  t.equal(r.lastIndex(), 12);
  t.equal(r.hardState.commit, 8);
  t.equal(warnings.length, 1);
  t.match(warnings[0], 'index 13');
  r.persist({
    snapshot: null,
    entries: [entry(13, 2)],
    hardState: { term: 2, vote: null, commit: 13 },
  });
  r.close();
  const again = RaftLogStore.open(path);
  t.equal(again.lastIndex(), 13);
  t.equal(again.term(13), 2);
  again.close();
});

t.test('a tampered hard state row is refused', async (t) => {
  const path = tempDb(t);
  const s = RaftLogStore.open(path);
  s.persist({
    snapshot: null,
    entries: range(1, 3, 1),
    hardState: { term: 4, vote: 'n1', commit: 1 },
  });
  s.close();
  const evil = new Database(path);
  evil.prepare("UPDATE raft_state SET vote = 'n3'").run();
  evil.close();
  t.throws(() => RaftLogStore.open(path), { code: 'storage_corrupt', message: /hard state/ });
});

t.test('installing a snapshot replaces the log', async (t) => {
  const path = tempDb(t);
  const s = RaftLogStore.open(path);
  s.persist({
    snapshot: null,
    entries: range(1, 5, 1),
    hardState: { term: 1, vote: null, commit: 3 },
  });
  const conf = { voters: ['a', 'b', 'c'], learners: ['d'] };
  s.persist({ snapshot: { index: 50, term: 3, conf }, entries: range(51, 52, 3), hardState: null });
  s.close();
  const r = RaftLogStore.open(path);
  t.equal(r.firstIndex(), 51);
  t.equal(r.lastIndex(), 52);
  t.equal(r.term(50), 3);
  t.equal(r.hardState.commit, 50);
  t.same(r.snapshot, { index: 50, term: 3, conf });
  r.close();
});

t.test('a commit-only hard state change skips the fsync; entries and votes do not', async (t) => {
  const path = tempDb(t);
  const synced: number[] = [];
  const s = RaftLogStore.open(path, { onSync: (_ms, n) => synced.push(n) });
  s.persist({
    snapshot: null,
    entries: range(1, 4, 1),
    hardState: { term: 1, vote: 'a', commit: 0 },
  });
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 3 } });
  s.persist({ snapshot: null, entries: [], hardState: { term: 2, vote: null, commit: 3 } });
  s.persist({
    snapshot: null,
    entries: range(5, 5, 2),
    hardState: { term: 2, vote: null, commit: 4 },
  });
  t.same(synced, [4, 0, 1], 'three fsyncs: entries, new term, entries');
  s.close();
  const r = RaftLogStore.open(path);
  t.same(r.hardState, { term: 2, vote: null, commit: 4 });
  r.close();
});

t.test('a commit-only batch runs no transaction; the next one and close() write it', async (t) => {
  const path = tempDb(t);
  const synced: number[] = [];
  const s = RaftLogStore.open(path, { onSync: (_ms, n) => synced.push(n) });
  const onDisk = (): number => {
    const db = new Database(path, { readonly: true });
    try {
      return (
        db.prepare('SELECT commit_index FROM raft_state WHERE k = 1').get() as {
          commit_index: number;
        }
      ).commit_index;
    } finally {
      db.close();
    }
  };
  s.persist({
    snapshot: null,
    entries: range(1, 6, 1),
    hardState: { term: 1, vote: 'a', commit: 1 },
  });
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 4 } });
  t.equal(s.hardState.commit, 4, 'the commit index moves in memory');
  t.ok(s.hasUnwrittenCommit());
  t.equal(onDisk(), 1, 'nothing written for a commit-only batch');
  t.throws(
    () => s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 3 } }),
    /commit 4 -> 3/,
    'still validated: commit never moves back',
  );
  t.throws(
    () => s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 9 } }),
    /beyond last/,
  );
  s.persist({ snapshot: null, entries: range(7, 7, 1), hardState: null });
  t.equal(onDisk(), 4, 'the next transaction carries the commit index');
  t.notOk(s.hasUnwrittenCommit());
  s.persist({ snapshot: null, entries: [], hardState: { term: 1, vote: 'a', commit: 6 } });
  t.same(synced, [6, 1], 'one fsync per batch with entries, none for commit-only ones');
  s.close();
  const r = RaftLogStore.open(path);
  t.equal(r.hardState.commit, 6, 'close() wrote the commit index held in memory');
  r.close();
});

t.test('compaction does not fsync on its own and survives a reopen', async (t) => {
  const path = tempDb(t);
  const synced: number[] = [];
  const s = RaftLogStore.open(path, { onSync: (_ms, n) => synced.push(n) });
  s.persist({
    snapshot: null,
    entries: range(1, 20, 1),
    hardState: { term: 1, vote: null, commit: 20 },
  });
  s.compact({ index: 10, term: 1, conf: { voters: ['a'], learners: [] } });
  t.same(synced, [20], 'no fsync for the compaction');
  t.equal(s.firstIndex(), 11);
  s.persist({ snapshot: null, entries: range(21, 21, 1), hardState: null });
  t.same(synced, [20, 1], 'the next batch is fsynced again (synchronous back to FULL)');
  s.close();
  const r = RaftLogStore.open(path);
  t.equal(r.firstIndex(), 11);
  t.equal(r.lastIndex(), 21);
  r.close();
});

t.test(
  'compaction sweeps the covered rows in bounded ranges; a reopen ignores what is left',
  async (t) => {
    const path = tempDb(t);
    const rowsAtOrBelow = (index: number): number => {
      const db = new Database(path, { readonly: true });
      try {
        return (
          db.prepare('SELECT COUNT(*) AS n FROM raft_entries WHERE idx <= ?').get(index) as {
            n: number;
          }
        ).n;
      } finally {
        db.close();
      }
    };
    const s = RaftLogStore.open(path);
    s.persist({
      snapshot: null,
      entries: range(1, 1000, 1),
      hardState: { term: 1, vote: null, commit: 1000 },
    });
    s.compact({ index: 900, term: 1, conf: { voters: ['a'], learners: [] } });
    t.equal(s.firstIndex(), 901);
    t.equal(rowsAtOrBelow(900), 900 - 256, 'the compaction deleted one range');
    s.close();
    // Reopened with 644 covered rows still in the table: they are not part of the log.
    const r = RaftLogStore.open(path);
    t.equal(r.firstIndex(), 901);
    t.equal(r.lastIndex(), 1000);
    t.same(
      r.entries(901, 903, 1 << 20).map((e) => text(e)),
      ['e901', 'e902'],
    );
    // Each later write sweeps one more range, until none is left.
    for (let i = 1001; i <= 1003; i++) {
      r.persist({ snapshot: null, entries: range(i, i, 1), hardState: null });
    }
    t.equal(rowsAtOrBelow(900), 0, 'swept by the three writes after the reopen');
    t.equal(rowsAtOrBelow(1003), 103);
    r.close();
  },
);

t.test('a worker thread checkpoints the WAL and keeps it bounded', async (t) => {
  const path = tempDb(t);
  const warnings: string[] = [];
  const s = RaftLogStore.open(path, {
    checkpointIntervalMs: 0,
    walRestartFrames: 100,
    warn: (m) => warnings.push(m),
  });
  let walBytesMax = 0;
  for (let b = 0; b < 400; b++) {
    const first = s.lastIndex() + 1;
    s.persist({
      snapshot: null,
      entries: range(first, first + 9, 1),
      hardState: { term: 1, vote: null, commit: first - 1 },
    });
    walBytesMax = Math.max(walBytesMax, statSync(`${path}-wal`).size);
    // Half the batches yield to the event loop, as a node between Readies does.
    if (b % 2 === 0) await new Promise((r) => setImmediate(r));
  }
  const stats = s.checkpointStats();
  t.ok(stats.checkpoints > 0, `the worker checkpointed (${stats.checkpoints} times)`);
  // 400 commits write ~1,200 pages; without a restart the WAL would hold them all.
  t.ok(walBytesMax < 600 * 4120, `the WAL restarted (largest ${walBytesMax} bytes)`);
  s.close();
  t.notOk(existsSync(`${path}-wal`), 'this connection closed last and removed the WAL');
  t.same(warnings, []);
  const r = RaftLogStore.open(path);
  t.equal(r.lastIndex(), 4000);
  t.equal(text(r.entries(1, 2, 100)[0]), 'e1');
  t.equal(text(r.entries(4000, 4001, 100)[0]), 'e4000');
  r.close();
});
