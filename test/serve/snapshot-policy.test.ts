// When the replicated limiter takes its periodic snapshot: at the latest after
// snapshotEveryEntries entries, sooner once the snapshot would rewrite snapshotPagesMax SQLite
// pages (src/storage/limiter-snapshot-pages.ts). A few busy keys wait for the entry bound and are
// written once each however often they changed; many distinct keys snapshot on pages.
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import {
  LimiterStateMachine,
  type SnapshotStats,
} from '../../src/cli/serve/limiter-state-machine.js';
import { encodeCommand } from '../../src/limiter/command-codec.js';
import { createLimiter } from '../../src/limiter/index.js';
import { EntryType } from '../../src/raft/types.js';
import {
  SNAPSHOT_ROWS_PER_PAGE,
  snapshotDue,
  snapshotPages,
} from '../../src/storage/limiter-snapshot-pages.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';

t.test('pages: every page of a small table, a page per row of a large one', async (t) => {
  t.equal(snapshotPages(0, 1_000_000), 0);
  t.equal(snapshotPages(10_000, 10_000), Math.ceil(10_000 / SNAPSHOT_ROWS_PER_PAGE));
  t.equal(snapshotPages(2_000, 1_000_000), 2_000);
  t.equal(snapshotPages(50, 10), 2, 'rows not yet counted as stored still fill pages');
  const b = { entries: 10, changedWindows: 0, storedWindows: 0, changedRequests: 0 };
  const limits = { entriesMax: 100, pagesMax: 40 };
  t.equal(snapshotDue({ ...b, storedRequests: 0 }, limits), null);
  t.equal(snapshotDue({ ...b, entries: 100, storedRequests: 0 }, limits), 'entries');
  const many = { ...b, changedWindows: 30, storedWindows: 1e6, storedRequests: 1e6 };
  t.equal(snapshotDue({ ...many, changedRequests: 9 }, limits), null, '39 pages');
  t.equal(snapshotDue({ ...many, changedRequests: 10 }, limits), 'pages', 'windows + requests');
});

function setup(t: Test, o: { everyEntries: number; pagesMax: number }) {
  const db = new Database(':memory:');
  const snapshots: Array<{ index: number; stats: SnapshotStats }> = [];
  const sm = new LimiterStateMachine(createLimiter(), new LimiterSnapshotStore(db), {
    snapshotEveryEntries: o.everyEntries,
    snapshotPagesMax: o.pagesMax,
    firstSnapshotEntries: 1,
    onSnapshot: (index, _ms, stats) => snapshots.push({ index, stats }),
  });
  t.teardown(() => db.close());
  let index = 0;
  const allow = async (key: string) => {
    sm.apply({
      index: ++index,
      term: 1,
      type: EntryType.Normal,
      data: encodeCommand({ type: 'allow', ts: 1_000 + index, key, limit: 1e6, windowMs: 1e9 }),
    });
    while (sm.snapshotInProgress) await nextTurn();
  };
  return { snapshots, allow };
}

t.test('a few busy keys: one snapshot per entry bound, each key written once', async (t) => {
  const { snapshots, allow } = setup(t, { everyEntries: 5_000, pagesMax: 20 });
  await allow('first'); // the first snapshot (full) after firstSnapshotEntries
  for (let i = 0; i < 10_000; i++) await allow(`user-${i % 100}`);
  t.same(
    snapshots.map((s) => [s.index, s.stats.reason]),
    [
      [1, 'entries'],
      [5_001, 'entries'],
      [10_001, 'entries'],
    ],
  );
  // 100 keys, rewritten 50 times each between two snapshots, are 100 rows (+ 2 meta records).
  t.equal(snapshots[1]!.stats.records, 102);
  t.equal(snapshots[2]!.stats.records, 102);
});

t.test('many distinct keys: a snapshot once its pages reach the budget', async (t) => {
  const pagesMax = 20;
  const { snapshots, allow } = setup(t, { everyEntries: 100_000, pagesMax });
  for (let i = 0; i < 3_000; i++) await allow(`user-${i}`);
  t.ok(snapshots.length >= 3, `${snapshots.length} snapshots in 3,000 entries`);
  t.equal(snapshots[0]!.index, 1);
  for (const s of snapshots.slice(1)) {
    t.equal(s.stats.reason, 'pages');
    // Checked every 64 entries: due at 20 changed keys once the table has 640, else sooner
    // than 64 entries after that.
    t.ok(s.stats.records <= pagesMax * SNAPSHOT_ROWS_PER_PAGE + 66, `${s.stats.records} records`);
  }
  const last = snapshots[snapshots.length - 1]!;
  t.ok(last.stats.records - 2 >= pagesMax, 'at least pagesMax changed keys');
  t.ok(last.stats.records - 2 <= 64, 'within one check of the budget once the table is large');
});
