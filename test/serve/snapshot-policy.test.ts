// When the replicated limiter takes its periodic snapshot: at the latest after
// snapshotEveryEntries entries, sooner once the snapshot would rewrite snapshotPagesMax SQLite
// pages (src/storage/limiter-snapshot-pages.ts). A few busy keys wait for the entry bound and are
// written once each however often they changed; many distinct keys snapshot on pages.
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import {
  LimiterStateMachine,
  SNAPSHOT_STAGGER_ENTRIES,
  type SnapshotStats,
} from '../../src/cli/serve/limiter-state-machine.js';
import { snapshotPhase } from '../../src/cli/serve/snapshot-phase.js';
import { encodeCommand } from '../../src/limiter/command-codec.js';
import { createLimiter } from '../../src/limiter/index.js';
import { EntryType } from '../../src/raft/types.js';
import {
  backlogPages,
  snapshotPages,
  WINDOW_ROW_BYTES_DEFAULT,
} from '../../src/storage/limiter-snapshot-pages.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';

t.test('pages: every page of a small table, a page per row of a large one', async (t) => {
  const small = WINDOW_ROW_BYTES_DEFAULT;
  t.equal(snapshotPages(0, 1_000_000, small), 0);
  t.equal(snapshotPages(10_000, 10_000, small), 315, '10,000 rows of 88 B: every page, 315');
  t.equal(snapshotPages(2_000, 1_000_000, small), 2_000, 'a page per changed row');
  t.equal(snapshotPages(50, 10, small), 2, 'rows not yet counted as stored still fill pages');
  t.equal(snapshotPages(10_000, 10_000, 700), 2_500, 'fat rows: 10,000 keys fill 2,500 pages');
  t.equal(snapshotPages(100, 10_000, 5_600), 200, 'a row over a page spans two');
  const b = { changedWindows: 0, storedWindows: 0, windowRowBytes: small };
  t.equal(backlogPages({ ...b, changedRequests: 0, storedRequests: 0 }), 0);
  const many = { ...b, changedWindows: 30, storedWindows: 1e6, storedRequests: 1e6 };
  t.equal(backlogPages({ ...many, changedRequests: 9 }), 39);
  t.equal(backlogPages({ ...many, changedRequests: 10 }), 40, 'windows + requests');
});

function setup(t: Test, o: { everyEntries: number; pagesMax: number; phase?: number }) {
  const db = new Database(':memory:');
  const snapshots: Array<{ index: number; stats: SnapshotStats }> = [];
  const store = new LimiterSnapshotStore(db);
  const sm = new LimiterStateMachine(createLimiter(), store, {
    snapshotEveryEntries: o.everyEntries,
    snapshotPagesMax: o.pagesMax,
    firstSnapshotEntries: 1,
    ...(o.phase === undefined ? {} : { snapshotPhase: o.phase }),
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
  return { snapshots, allow, store };
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
  for (const s of snapshots.slice(1)) t.equal(s.stats.reason, 'pages');
  // The first by pages once the table holds pagesMax pages of rows (the first snapshot measured
  // ~55 B a row: ~51 rows a page), each later one at the first check with pagesMax changed keys.
  const [second, ...later] = snapshots.slice(1).map((s) => s.stats.records - 2);
  t.ok(second! > pagesMax * 32 && second! < pagesMax * 70, `the second: ${second} keys`);
  for (const keys of later) t.ok(keys >= pagesMax && keys <= 64, `${keys} keys`);
});

t.test('a few keys with long windows: rows a page each, measured, snapshot on pages', async (t) => {
  const { snapshots, allow, store } = setup(t, { everyEntries: 30_000, pagesMax: 10 });
  await allow('first');
  for (let i = 0; i < 30_100; i++) await allow(`user-${i % 20}`);
  // The second snapshot (entry bound) writes 20 keys of 1,500 grants each and measures them.
  t.same(
    snapshots.slice(0, 2).map((s) => [s.index, s.stats.reason]),
    [
      [1, 'entries'],
      [30_001, 'entries'],
    ],
  );
  t.ok(store.windowRowBytes > 1_000, `window rows of ${Math.round(store.windowRowBytes)} B`);
  // 20 such rows fill 10+ pages: the next is due on pages at the first check, 64 entries on.
  t.same(
    snapshots.slice(2, 3).map((s) => [s.index, s.stats.reason]),
    [[30_065, 'pages']],
  );
});

t.test('by default the first (full) snapshot comes after 2,000 entries', async (t) => {
  const db = new Database(':memory:');
  t.teardown(() => db.close());
  const indexes: number[] = [];
  const sm = new LimiterStateMachine(createLimiter(), new LimiterSnapshotStore(db), {
    snapshotEveryEntries: 100_000,
    onSnapshot: (index) => indexes.push(index),
  });
  for (let index = 1; index <= 2_100; index++) {
    sm.apply({
      index,
      term: 1,
      type: EntryType.Normal,
      data: encodeCommand({
        type: 'allow',
        ts: 1_000 + index,
        key: `k${index}`,
        limit: 9,
        windowMs: 1e9,
      }),
    });
    while (sm.snapshotInProgress) await nextTurn();
  }
  t.same(indexes, [2_000]);
});

t.test('phases: the members of a group start every snapshot at their own indexes', async (t) => {
  const phases = [0, 1 / 3, 2 / 3];
  const slots = phases.map((p) => Math.round(p * SNAPSHOT_STAGGER_ENTRIES));
  t.same(slots, [0, 341, 683]);
  // Both bounds: the entry bound with 100 busy keys, the page bound with a new key per entry.
  const byEntries = phases.map((phase) => setup(t, { everyEntries: 3_000, pagesMax: 1e9, phase }));
  const byPages = phases.map((phase) => setup(t, { everyEntries: 1e6, pagesMax: 30, phase }));
  for (const m of [...byEntries, ...byPages]) await m.allow('first');
  for (let i = 0; i < 12_000; i++) {
    for (const m of byEntries) await m.allow(`user-${i % 100}`);
    for (const m of byPages) await m.allow(`user-${i}`);
  }
  const indexes = (m: { snapshots: Array<{ index: number }> }) => m.snapshots.map((s) => s.index);
  // The first due at 1, the next 3,000 after each start; each waits for its index mod 1,024.
  t.same(indexes(byEntries[0]!), [1_024, 4_096, 7_168, 10_240], 'phase 0');
  t.same(indexes(byEntries[1]!), [341, 3_413, 6_485, 9_557], 'a third');
  t.same(indexes(byEntries[2]!), [683, 3_755, 6_827, 9_899], 'two thirds');
  for (const [k, m] of byPages.entries()) {
    const all = indexes(m);
    t.ok(all.length >= 8, `phase ${k}: ${all.length} snapshots by pages`);
    t.ok(
      all.every((i) => i % SNAPSHOT_STAGGER_ENTRIES === slots[k]),
      `phase ${k}: every one at index ${slots[k]} mod 1,024`,
    );
  }
  // An interval shorter than the period staggers within the interval.
  const short = setup(t, { everyEntries: 100, pagesMax: 1e9, phase: 2 / 3 });
  for (let i = 0; i < 400; i++) await short.allow(`user-${i % 10}`);
  t.same(indexes(short), [67, 167, 267, 367], 'every 100: at index 67 mod 100');
  // A share just under 1 rounds up to the period: slot 0.
  const last = setup(t, { everyEntries: 100, pagesMax: 1e9, phase: 0.999 });
  for (let i = 0; i < 300; i++) await last.allow(`user-${i % 10}`);
  t.same(indexes(last), [100, 200, 300], 'a share of 0.999: at index 0 mod 100');
  t.throws(() => setup(t, { everyEntries: 10, pagesMax: 10, phase: 1 }), /\[0, 1\)/);
  t.throws(() => setup(t, { everyEntries: 10, pagesMax: 10, phase: Number.NaN }), /\[0, 1\)/);
});

t.test('snapshotPhase: the rank among the initial members, else a share from the id', async (t) => {
  const ids = ['n3', 'n1', 'n2'];
  t.same(
    ids.map((id) => snapshotPhase(id, ids)),
    [2 / 3, 0, 1 / 3],
  );
  t.equal(snapshotPhase('b', ['a', 'b', 'b']), 1 / 2, 'duplicates counted once');
  const joined = ['n4', 'n5', 'n6', 'x'].map((id) => snapshotPhase(id, ids));
  for (const p of joined) t.ok(p >= 0 && p < 1, `a joined node's share ${p}`);
  const gaps = joined.flatMap((a, i) => joined.slice(i + 1).map((b) => Math.abs(a - b)));
  t.ok(Math.min(...gaps) > 0.02, `ids a character apart, shares apart: ${joined}`);
  t.equal(snapshotPhase('n4', ids), snapshotPhase('n4', []), 'the same on every start');
});
