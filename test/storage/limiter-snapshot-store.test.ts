import { join } from 'node:path';
import t from 'tap';
import type { StateRecord } from '../../src/limiter/types.js';
import { LIMITER_SCHEMA_VERSION } from '../../src/storage/limiter-schema.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';
import { openExclusiveDatabase } from '../../src/storage/sqlite-open.js';

const records: StateRecord[] = [
  { kind: 'meta', name: 'lastTs', value: 1_700_000_000_123 },
  { kind: 'rule', name: 'default', spec: { limit: 10, windowMs: 60_000 } },
  {
    kind: 'rule',
    name: 'burst',
    spec: { limit: 5, windowMs: 1000, algorithm: 'token-bucket', burst: 3 },
  },
  { kind: 'override', rule: 'default', key: 'vip', spec: { limit: 100, windowMs: 60_000 } },
  { kind: 'window', rule: 'default', key: 'user:1', data: new Uint8Array([1, 2, 3, 255]) },
  { kind: 'window', rule: 'burst', key: 'user:2', data: new Uint8Array(0) },
  {
    kind: 'request',
    id: 'req-1',
    fingerprint: 'fp',
    ts: 1_700_000_000_000,
    decision: { allowed: false, limit: 10, remaining: 0, resetMs: 500, retryAfterMs: null },
  },
  {
    kind: 'request',
    id: 'req-2',
    fingerprint: 'fp2',
    ts: 1_700_000_000_001,
    decision: { allowed: true, limit: 10, remaining: 9, resetMs: 60_000, retryAfterMs: 0 },
    seq: 4,
    logIndex: 17,
  },
];

/** Records with blobs as plain arrays, sorted, so sets compare regardless of storage order. */
function normalize(list: Iterable<StateRecord>): unknown[] {
  return [...list]
    .map((r) => (r.kind === 'window' ? { ...r, data: [...r.data] } : r))
    .map((r) => JSON.stringify(r))
    .sort();
}

function writeAll(store: LimiterSnapshotStore, index: number, list: StateRecord[]): void {
  store.begin(index, 'full');
  for (const r of list) store.put(r);
  store.commit();
}

t.test('a full snapshot round-trips every record kind and its applied index', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const db = openExclusiveDatabase(path);
  const store = new LimiterSnapshotStore(db);
  t.equal(store.appliedIndex, 0, 'an empty store covers nothing');
  t.same([...store.records()], []);
  writeAll(store, 7, records);
  t.equal(store.appliedIndex, 7);
  t.same(normalize(store.records()), normalize(records));
  db.close();

  const reopened = openExclusiveDatabase(path);
  const again = new LimiterSnapshotStore(reopened);
  t.equal(again.appliedIndex, 7, 'the index survives a reopen');
  t.same(normalize(again.records()), normalize(records), 'so do the records');
  const rule = [...again.records()].find((r) => r.kind === 'rule' && r.name === 'default');
  t.same(rule, records[1], 'absent optional fields come back absent');
  reopened.close();
});

t.test('an incremental snapshot upserts and deletes; a full one replaces all', async (t) => {
  const db = openExclusiveDatabase(join(t.testdir(), 'state.db'));
  const store = new LimiterSnapshotStore(db);
  writeAll(store, 3, records);

  store.begin(5, 'incremental');
  store.put({ kind: 'window', rule: 'default', key: 'user:1', data: new Uint8Array([9]) });
  store.put({ kind: 'window', rule: 'default', key: 'user:3', data: new Uint8Array([7]) });
  store.delete({ kind: 'window', rule: 'burst', key: 'user:2' });
  store.delete({ kind: 'request', id: 'req-1' });
  store.delete({ kind: 'override', rule: 'default', key: 'vip' });
  store.delete({ kind: 'rule', name: 'burst' });
  store.delete({ kind: 'meta', name: 'lastTs' });
  store.commit();
  t.equal(store.appliedIndex, 5);
  const expected = [
    records[1]!,
    { kind: 'window', rule: 'default', key: 'user:1', data: new Uint8Array([9]) },
    { kind: 'window', rule: 'default', key: 'user:3', data: new Uint8Array([7]) },
    records[7]!,
  ] as StateRecord[];
  t.same(normalize(store.records()), normalize(expected));

  writeAll(store, 5, [records[0]!]);
  t.same(normalize(store.records()), normalize([records[0]!]), 'full replaced everything');
  db.close();
});

t.test('an aborted or failed snapshot leaves the stored one unchanged', async (t) => {
  const db = openExclusiveDatabase(join(t.testdir(), 'state.db'));
  const store = new LimiterSnapshotStore(db);
  writeAll(store, 2, records);

  store.begin(4, 'full');
  store.put(records[0]!);
  store.abort();
  t.equal(store.appliedIndex, 2);
  t.same(normalize(store.records()), normalize(records), 'abort rolled back the full delete');

  // Fails the commit's last statement, the applied index's row.
  db.exec(`CREATE TEMP TRIGGER fail_commit BEFORE INSERT ON main.limiter_store
    WHEN NEW.name = 'applied_index' AND NEW.value = 4 BEGIN SELECT RAISE(ABORT, 'no room'); END`);
  store.begin(4, 'incremental');
  store.delete({ kind: 'rule', name: 'default' });
  t.throws(() => store.commit(), /no room/);
  t.equal(store.appliedIndex, 2, 'index and records commit together or not at all');
  t.same(normalize(store.records()), normalize(records));
  t.notOk(db.inTransaction);
  db.close();
});

t.test('misuse is refused', async (t) => {
  const db = openExclusiveDatabase(join(t.testdir(), 'state.db'));
  const store = new LimiterSnapshotStore(db);
  writeAll(store, 9, records);
  t.throws(() => store.begin(8, 'full'), { code: 'internal' }, 'the applied index never goes back');
  t.throws(() => store.put(records[0]!), { code: 'internal' }, 'put without begin');
  t.throws(() => store.commit(), { code: 'internal' }, 'commit without begin');
  store.begin(9, 'incremental');
  t.throws(() => store.begin(10, 'incremental'), { code: 'internal' }, 'nested begin');
  t.throws(() => [...store.records()], { code: 'internal' }, 'read during a snapshot');
  store.abort();
  t.equal(store.appliedIndex, 9);
  db.close();
});

t.test('a state file has one owner at a time', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const first = openExclusiveDatabase(path);
  new LimiterSnapshotStore(first);
  t.throws(() => openExclusiveDatabase(path), { code: 'storage_locked' });
  first.close();
  const second = openExclusiveDatabase(path, { durability: 'fsync' });
  t.equal(
    second.pragma('synchronous', { simple: true }),
    2,
    'fsync durability is synchronous=FULL',
  );
  t.equal(second.pragma('journal_mode', { simple: true }), 'wal');
  second.close();
});

t.test('a file from another schema version is refused', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const db = openExclusiveDatabase(path);
  new LimiterSnapshotStore(db);
  db.prepare("UPDATE limiter_store SET value = 99 WHERE name = 'schema_version'").run();
  t.throws(() => new LimiterSnapshotStore(db), { code: 'storage_corrupt' });
  db.close();
});

t.test('a version 1 file gains the requestId log index column and keeps its rows', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const db = openExclusiveDatabase(path);
  writeAll(new LimiterSnapshotStore(db), 3, records.slice(0, -1));
  // What version 1 wrote: no log_index column.
  db.exec('ALTER TABLE limiter_requests DROP COLUMN log_index');
  db.prepare("UPDATE limiter_store SET value = 1 WHERE name = 'schema_version'").run();
  const store = new LimiterSnapshotStore(db);
  t.same(normalize(store.records()), normalize(records.slice(0, -1)), 'old rows read as before');
  writeAll(store, 4, records);
  t.same(normalize(store.records()), normalize(records), 'a log index is stored after migrating');
  const version = db.prepare("SELECT value FROM limiter_store WHERE name = 'schema_version'");
  t.equal((version.get() as { value: number }).value, LIMITER_SCHEMA_VERSION);
  db.close();
});

t.test('a version 2 file moves to version 3 and keeps its rows', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const db = openExclusiveDatabase(path);
  writeAll(new LimiterSnapshotStore(db), 3, records);
  db.prepare("UPDATE limiter_store SET value = 2 WHERE name = 'schema_version'").run();
  const store = new LimiterSnapshotStore(db);
  t.same(normalize(store.records()), normalize(records), 'old rows read as before');
  const version = db.prepare("SELECT value FROM limiter_store WHERE name = 'schema_version'");
  t.equal((version.get() as { value: number }).value, 3);
  db.close();
});

t.test('window puts written in batches keep the order of operations', async (t) => {
  const db = openExclusiveDatabase(join(t.testdir(), 'state.db'));
  const store = new LimiterSnapshotStore(db);
  writeAll(store, 1, records.slice(0, 1));
  const window = (key: string, byte: number): StateRecord => ({
    kind: 'window',
    rule: 'default',
    key,
    data: new Uint8Array([byte]),
  });
  // 40 puts (two full batches and a partial one), a delete of a key put in the pending batch,
  // a put after it, a rewrite of a key already flushed, and a rule between them.
  store.begin(2, 'incremental');
  for (let i = 0; i < 40; i++) store.put(window(`k${i}`, i));
  store.delete({ kind: 'window', rule: 'default', key: 'k39' });
  store.put(window('k38', 200));
  store.put(records[1]!);
  store.put(window('k0', 100));
  store.delete({ kind: 'window', rule: 'default', key: 'k1' });
  store.commit();
  const want: StateRecord[] = [records[0]!, records[1]!];
  for (let i = 0; i < 39; i++) {
    if (i === 1) continue;
    want.push(window(`k${i}`, i === 0 ? 100 : i === 38 ? 200 : i));
  }
  t.same(normalize(store.records()), normalize(want));

  // An aborted snapshot leaves nothing of its pending batch behind.
  store.begin(3, 'incremental');
  for (let i = 0; i < 5; i++) store.put(window(`new${i}`, i));
  store.abort();
  store.begin(3, 'incremental');
  store.commit();
  t.same(normalize(store.records()), normalize(want));
  db.close();
});
