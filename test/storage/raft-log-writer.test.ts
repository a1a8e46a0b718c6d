import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { DrlError } from '../../src/errors.js';
import { type Entry, EntryType } from '../../src/raft/types.js';
import {
  type PersistBatch,
  RaftLogStore,
  type RaftLogStoreOptions,
} from '../../src/storage/raft-log-store.js';

// RaftLogStore's async writes: 'worker' (the write connection in a worker thread) and 'pool'
// (commits here without an fsync, the WAL's fdatasync on libuv's thread pool).

function tempDb(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'drl-raftlog-writer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'raft.db');
}

function range(lo: number, hi: number, term: number, tag = 'e'): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) {
    out.push({ index: i, term, type: EntryType.Normal, data: Buffer.from(`${tag}${i}`) });
  }
  return out;
}

function persist(store: RaftLogStore, b: PersistBatch): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const posted = store.persistAsync(b, (err) => (err ? reject(err) : resolve(true)));
    if (!posted) resolve(false);
  });
}

/** What another connection sees committed on disk. */
function onDisk(path: string): { last: number; commit: number; term: number } {
  const db = new Database(path, { readonly: true });
  try {
    const last = (db.prepare('SELECT max(idx) AS m FROM raft_entries').get() as { m: number }).m;
    const st = db.prepare('SELECT term, commit_index FROM raft_state').get() as {
      term: number;
      commit_index: number;
    };
    return { last: last ?? 0, commit: st.commit_index, term: st.term };
  } finally {
    db.close();
  }
}

for (const writes of ['worker', 'pool'] as const) modeTests(writes);

function modeTests(writes: NonNullable<RaftLogStoreOptions['writes']>): void {
  t.test(
    `${writes}: batches become durable in order; a reopen recovers them from disk alone`,
    async (t) => {
      const path = tempDb(t);
      const syncs: number[] = [];
      const a = RaftLogStore.open(path, { writes, onSync: (_ms, n) => syncs.push(n) });
      const order: number[] = [];
      const pending: Promise<void>[] = [];
      for (let b = 0; b < 20; b++) {
        const lo = b * 100 + 1;
        pending.push(
          persist(a, {
            snapshot: null,
            entries: range(lo, lo + 99, 1),
            hardState: { term: 1, vote: 'n1', commit: Math.max(0, lo - 1) },
          }).then(() => {
            order.push(b);
          }),
        );
      }
      // Validated and visible in memory at once (the next batch builds on it) ...
      t.equal(a.lastIndex(), 2000);
      t.ok(a.writesInFlight() > 0, 'posted, not durable yet');
      await Promise.all(pending);
      t.same(
        order,
        Array.from({ length: 20 }, (_, i) => i),
      );
      t.same(syncs, Array(20).fill(100));
      t.equal(a.writesInFlight(), 0);
      // ... and on disk, committed (and synced) once answered.
      t.same(onDisk(path), { last: 2000, commit: 1900, term: 1 });
      a.close();
      const b = RaftLogStore.open(path);
      t.equal(b.lastIndex(), 2000);
      t.same(b.hardState, { term: 1, vote: 'n1', commit: 1900 });
      t.same(
        b.entries(1999, 2001, 1 << 20).map((e) => Buffer.from(e.data).toString()),
        ['e1999', 'e2000'],
      );
      b.close();
    },
  );

  t.test(`${writes}: truncation, commit-only batches, compaction and close`, async (t) => {
    const path = tempDb(t);
    const a = RaftLogStore.open(path, { writes });
    await persist(a, {
      snapshot: null,
      entries: range(1, 50, 1),
      hardState: { term: 1, vote: null, commit: 10 },
    });
    // A conflicting suffix replaced (written with the truncation in one transaction).
    await persist(a, {
      snapshot: null,
      entries: range(31, 40, 2, 'x'),
      hardState: { term: 2, vote: 'n2', commit: 20 },
    });
    t.equal(a.lastIndex(), 40);
    // Commit-only: nothing to write, no answer to wait for.
    t.equal(
      await persist(a, {
        snapshot: null,
        entries: [],
        hardState: { term: 2, vote: 'n2', commit: 35 },
      }),
      false,
    );
    t.ok(a.hasUnwrittenCommit());
    // Compaction posts a transaction too (no fsync of its own); close() waits for the queue.
    a.compact({ index: 20, term: 1, conf: { voters: ['n1', 'n2', 'n3'], learners: [] } });
    if (writes === 'worker') {
      t.throws(
        () => a.persist({ snapshot: null, entries: range(41, 41, 2), hardState: null }),
        DrlError,
        'the synchronous persist is refused in worker mode',
      );
    } else {
      // Pool mode commits here anyway: persist() syncs the WAL on this thread before returning.
      a.persist({ snapshot: null, entries: range(41, 41, 2), hardState: null });
      t.equal(onDisk(path).last, 41, 'the synchronous persist is committed on return');
    }
    a.close();
    const b = RaftLogStore.open(path);
    t.equal(b.firstIndex(), 21);
    t.equal(b.lastIndex(), writes === 'worker' ? 40 : 41);
    t.same(b.hardState, { term: 2, vote: 'n2', commit: 35 }, 'the commit index written at close');
    t.same(
      b.entries(30, 32, 1 << 20).map((e) => [e.term, Buffer.from(e.data).toString()]),
      [
        [1, 'e30'],
        [2, 'x31'],
      ],
    );
    b.close();
  });

  t.test(`${writes}: a refused batch changes nothing and posts nothing`, async (t) => {
    const path = tempDb(t);
    const a = RaftLogStore.open(path, { writes });
    await persist(a, {
      snapshot: null,
      entries: range(1, 10, 1),
      hardState: { term: 1, vote: null, commit: 5 },
    });
    t.throws(() =>
      a.persistAsync({ snapshot: null, entries: range(3, 4, 1), hardState: null }, () => {
        t.fail('no answer for a refused batch');
      }),
    );
    t.equal(a.writesInFlight(), 0);
    t.equal(a.lastIndex(), 10);
    a.close();
  });
}
