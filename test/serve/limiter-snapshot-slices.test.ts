// The limiter state machine's snapshots off the event loop's critical path: the periodic
// snapshot is written to SQLite a slice per turn (durable only at its commit), and the leader
// streams InstallSnapshot from the last durable snapshot through its own read transaction, a
// view that later applies and snapshots do not change.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { decodeImage } from '../../src/cli/serve/limiter-snapshot-image.js';
import {
  LimiterStateMachine,
  type SnapshotStats,
} from '../../src/cli/serve/limiter-state-machine.js';
import { encodeCommand } from '../../src/limiter/command-codec.js';
import { createLimiter } from '../../src/limiter/index.js';
import { SLIDING_LOG_UNIFORM_CODE } from '../../src/limiter/sliding-log-record.js';
import type { StateRecord } from '../../src/limiter/types.js';
import type { SnapshotSource } from '../../src/raft/driver/state-machine.js';
import { EntryType } from '../../src/raft/types.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';

const KEYS = 20_000;

function setup(t: Test, snapshotEveryEntries: number) {
  const dir = mkdtempSync(join(tmpdir(), 'drl-slices-'));
  const path = join(dir, 'limiter-state.db');
  const store = LimiterSnapshotStore.openFile(path);
  const snapshots: Array<{ index: number; stats: SnapshotStats }> = [];
  const sm = new LimiterStateMachine(createLimiter(), store, {
    snapshotEveryEntries,
    firstSnapshotEntries: snapshotEveryEntries,
    onSnapshot: (index, _ms, stats) => snapshots.push({ index, stats }),
  });
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let index = 0;
  const allow = (key: string) =>
    sm.apply({
      index: ++index,
      term: 1,
      type: EntryType.Normal,
      data: encodeCommand({ type: 'allow', ts: 1_000 + index, key, limit: 5, windowMs: 1e9 }),
    });
  return { dir, path, store, sm, snapshots, allow };
}

async function settle(sm: LimiterStateMachine): Promise<number> {
  let turns = 0;
  while (sm.snapshotInProgress) {
    await nextTurn();
    turns++;
  }
  return turns;
}

function drain(source: SnapshotSource): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let piece = source.next(); piece !== null; piece = source.next()) parts.push(piece);
  source.close();
  return Buffer.concat(parts);
}

const windows = (records: Iterable<StateRecord>) =>
  [...records].filter((r) => r.kind === 'window').length;

t.test(
  'the periodic snapshot is written across turns and durable only at its commit',
  async (t) => {
    const { sm, snapshots, allow, path } = setup(t, KEYS);
    for (let i = 0; i < KEYS; i++) allow(`user-${i}`);
    t.ok(sm.snapshotInProgress, 'the snapshot was started by the apply that reached the interval');
    t.equal(sm.durableIndex(), 0, 'nothing durable before the commit');
    const turns = await settle(sm);
    t.equal(sm.durableIndex(), KEYS, 'durable at the captured index after the commit');
    t.equal(snapshots.length, 1);
    t.ok(snapshots[0]!.stats.turns > 1, `written over ${snapshots[0]!.stats.turns} slices`);
    t.ok(turns > 1, `the event loop ran between slices (${turns} turns)`);
    t.equal(snapshots[0]!.stats.records, KEYS + 2, 'all keys and the 2 meta records');
    t.throws(() => LimiterSnapshotStore.openFile(path), { code: 'storage_locked' }, 'one owner');
  },
);

t.test('applies continue during a sliced write and are in the next snapshot', async (t) => {
  const { sm, allow, store } = setup(t, 5_000);
  for (let i = 0; i < 5_000; i++) allow(`a-${i}`);
  t.ok(sm.snapshotInProgress);
  for (let i = 0; i < 100; i++) allow(`b-${i}`); // while slices are being written
  await settle(sm);
  t.equal(sm.durableIndex(), 5_000, 'the snapshot holds the state at its capture');
  sm.persistSnapshot();
  t.equal(sm.durableIndex(), 5_100);
  t.equal(windows(store.records()), 5_100, 'the later applies were written by the next one');
});

t.test('a worker, not the committing loop, copies the snapshots into the state file', async (t) => {
  const { sm, allow, store, path } = setup(t, 1e9);
  for (let i = 0; i < 5_000; i++) allow(`w-${i}`);
  sm.persistSnapshot();
  const sizeBefore = statSync(path).size;
  await sleep(300); // past the worker's 250 ms interval, so the next commit asks for one
  allow('w-last');
  sm.persistSnapshot();
  let stats = store.checkpointStats();
  for (let i = 0; i < 100 && (stats?.checkpoints ?? 0) < 1; i++) {
    await sleep(50);
    stats = store.checkpointStats();
  }
  t.ok((stats?.checkpoints ?? 0) >= 1, `the worker checkpointed (${stats?.checkpoints})`);
  t.equal(stats?.mainCheckpoints, 0, 'the committing thread ran none itself');
  t.ok(statSync(path).size > sizeBefore + 100_000, 'the rows reached the database file');
  // Another connection finds nothing left to copy: the worker caught up with every frame.
  const db = new Database(path);
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    t.equal(r?.checkpointed, r?.log, `all ${r?.log} frames already in the file`);
  } finally {
    db.close();
  }
  t.equal(windows(store.records()), 5_001, 'the state reads back whole');
});

t.test('the stream source holds the durable snapshot while newer ones commit', async (t) => {
  const { sm, allow } = setup(t, 1e9);
  for (let i = 0; i < 3_000; i++) allow(`k-${i}`);
  sm.persistSnapshot();
  const source = sm.openSnapshot();
  t.ok(source, 'a file-backed store can be shared');
  t.equal(source!.index, 3_000);
  const first = source!.next()!;
  for (let i = 0; i < 1_000; i++) allow(`later-${i}`);
  sm.persistSnapshot();
  t.equal(sm.durableIndex(), 4_000, 'a newer snapshot committed while the source is open');
  const rest = drain(source!);
  const { header, records } = decodeImage(Buffer.concat([first, rest]));
  t.equal(header.index, 3_000);
  t.equal(windows(records), 3_000, 'the source still reads the state at 3000');
  const next = sm.openSnapshot()!;
  t.equal(windows(decodeImage(drain(next)).records), 4_000, 'a new source reads the newer one');
});

t.test('a restore during a sliced write cancels it and replaces the state', async (t) => {
  const leader = setup(t, 1e9);
  for (let i = 0; i < 200; i++) leader.allow(`l-${i}`);
  leader.sm.persistSnapshot();
  const image = drain(leader.sm.openSnapshot()!);
  const { sm, allow, store } = setup(t, 4_000);
  for (let i = 0; i < 4_000; i++) allow(`f-${i}`);
  t.ok(sm.snapshotInProgress);
  sm.restore({ index: 200, term: 1, conf: { voters: ['a'], learners: [] } }, image);
  t.notOk(sm.snapshotInProgress, 'the write in progress was dropped');
  await nextTurn();
  t.equal(sm.durableIndex(), 200);
  t.equal(store.appliedIndex, 200);
  t.equal(windows(store.records()), 200, 'only the snapshot state is stored');
});

t.test(
  'the image a peer receives holds per-entry records; the stored file compact ones',
  async (t) => {
    const leader = setup(t, 1e9);
    for (let i = 0; i < 300; i++) leader.allow(`l-${i % 100}`);
    leader.sm.persistSnapshot();
    const codes = (records: Iterable<StateRecord>) => {
      const seen = new Set<number>();
      for (const r of records) if (r.kind === 'window') seen.add(r.data[0]!);
      return [...seen];
    };
    t.same(codes(leader.store.records()), [SLIDING_LOG_UNIFORM_CODE], 'stored: one-window form');
    // Every version reads code 1: a peer still on an older version can be caught up.
    const streamed = drain(leader.sm.openSnapshot()!);
    t.same(codes(decodeImage(streamed).records), [1], 'streamed from the file: per-entry form');
    const inMemory = leader.sm.snapshotData();
    t.same(codes(decodeImage(inMemory).records), [1], 'from memory: per-entry form');
    const { sm, store } = setup(t, 1e9);
    sm.restore({ index: 300, term: 1, conf: { voters: ['a'], learners: [] } }, streamed);
    t.same(
      [...store.records()].map((r) => JSON.stringify(r)),
      [...leader.store.records()].map((r) => JSON.stringify(r)),
      'the receiver stores the same records, compact again',
    );
  },
);
