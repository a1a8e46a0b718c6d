import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DrlError } from '../../src/errors.js';
import { type Entry, EntryType } from '../../src/raft/types.js';
import { FILE_LOG_NAME, openRaftLog, SQLITE_LOG_NAME } from '../../src/storage/open-raft-log.js';
import { RaftFileLogStore } from '../../src/storage/raft-file-log-store.js';
import type { RaftLogStorage } from '../../src/storage/raft-log-storage.js';
import { RaftLogStore } from '../../src/storage/raft-log-store.js';

function dataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'drl-openlog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function entry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: Buffer.from(`e${index}`) };
}

const CONF = { voters: ['a', 'b', 'c'], learners: [] };
const warnings: string[] = [];
const open = (dir: string, kind: 'file' | 'sqlite') =>
  openRaftLog(dir, { kind, writes: 'sync', warn: (m) => warnings.push(m) });

/** A SQLite log with a compacted prefix, entries after it and a vote. */
function writeSqliteLog(dir: string): void {
  const s = RaftLogStore.open(join(dir, SQLITE_LOG_NAME));
  const entries = Array.from({ length: 20 }, (_, i) => entry(i + 1, i < 10 ? 1 : 2));
  s.persist({ snapshot: null, entries, hardState: { term: 2, vote: 'b', commit: 15 } });
  s.compact({ index: 8, term: 1, conf: CONF });
  s.close();
}

function view(s: RaftLogStorage) {
  return {
    first: s.firstIndex(),
    last: s.lastIndex(),
    hardState: s.hardState,
    snapshot: s.snapshot,
    entries: s
      .entries(s.firstIndex(), s.lastIndex() + 1, Number.POSITIVE_INFINITY)
      .map((e) => [e.index, e.term, Buffer.from(e.data).toString()]),
  };
}

t.test('a SQLite log is migrated to the file log whole, once', async (t) => {
  const dir = dataDir(t);
  writeSqliteLog(dir);
  const before = RaftLogStore.open(join(dir, SQLITE_LOG_NAME));
  const expected = view(before);
  before.close();
  t.equal(expected.first, 9);
  t.equal(expected.entries.length, 12);

  const migrated = open(dir, 'file');
  t.ok(migrated instanceof RaftFileLogStore, 'the file store');
  t.same(view(migrated), expected, 'the same log, hard state and snapshot');
  migrated.close();
  t.notOk(existsSync(join(dir, SQLITE_LOG_NAME)), 'the SQLite file is moved aside');
  t.ok(existsSync(join(dir, `${SQLITE_LOG_NAME}.migrated`)));
  t.match(warnings.at(-1), /migrated/);

  const again = open(dir, 'file');
  t.same(view(again), expected, 'a second open reads the file log');
  again.close();
});

t.test('a crash between the rename of the directory and of the SQLite file', async (t) => {
  const dir = dataDir(t);
  writeSqliteLog(dir);
  open(dir, 'file').close();
  // As if the process died after the directory was in place: the SQLite file is back.
  const moved = RaftLogStore.open(join(dir, `${SQLITE_LOG_NAME}.migrated`));
  const expected = view(moved);
  moved.close();
  // A SQLite log that differs, so that reading it instead of the directory would show.
  rmSync(join(dir, `${SQLITE_LOG_NAME}.migrated`));
  const s = RaftLogStore.open(join(dir, SQLITE_LOG_NAME));
  s.persist({
    snapshot: null,
    entries: [entry(1, 7)],
    hardState: { term: 7, vote: 'c', commit: 0 },
  });
  s.close();
  const reopened = open(dir, 'file');
  t.same(view(reopened), expected, 'the directory wins');
  reopened.close();
  t.notOk(existsSync(join(dir, SQLITE_LOG_NAME)));
});

t.test('a half-built migration directory is rebuilt', async (t) => {
  const dir = dataDir(t);
  writeSqliteLog(dir);
  mkdirSync(join(dir, `${FILE_LOG_NAME}.tmp`));
  writeFileSync(join(dir, `${FILE_LOG_NAME}.tmp`, '0000000000000001.seg'), 'garbage');
  const s = open(dir, 'file');
  t.equal(s.lastIndex(), 20);
  t.same(s.hardState, { term: 2, vote: 'b', commit: 15 });
  s.close();
  t.notOk(existsSync(join(dir, `${FILE_LOG_NAME}.tmp`)));
  t.same(readdirSync(join(dir, FILE_LOG_NAME)).length, 1, 'one segment');
});

t.test('a file log is not opened as SQLite, and a writer thread needs SQLite', async (t) => {
  const dir = dataDir(t);
  open(dir, 'file').close();
  t.throws(() => open(dir, 'sqlite'), { code: 'invalid_argument', message: /--log-store file/ });
  t.notOk(existsSync(join(dir, SQLITE_LOG_NAME)), 'nothing created');
  const err = (() => {
    try {
      openRaftLog(dir, { kind: 'file', writes: 'worker', warn: () => {} });
    } catch (e) {
      return e;
    }
    return null;
  })();
  t.ok(err instanceof DrlError);
  t.match((err as DrlError).message, /--log-writes worker needs --log-store sqlite/);
});

t.test('a fresh data directory gets the kind asked for', async (t) => {
  const dir = dataDir(t);
  const file = open(join(dir, 'f'), 'file');
  file.persist({
    snapshot: null,
    entries: [entry(1, 1)],
    hardState: { term: 1, vote: 'a', commit: 1 },
  });
  file.close();
  t.ok(existsSync(join(dir, 'f', FILE_LOG_NAME)));
  t.notOk(existsSync(join(dir, 'f', SQLITE_LOG_NAME)));
  mkdirSync(join(dir, 's'));
  const sqlite = open(join(dir, 's'), 'sqlite');
  t.ok(sqlite instanceof RaftLogStore);
  sqlite.close();
  t.ok(existsSync(join(dir, 's', SQLITE_LOG_NAME)));
});
