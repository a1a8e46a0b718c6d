// A requestId retry answers with the index and ts of the entry that first decided it (found by
// jepsen-lite seed 1: retries reported the re-reading entry's index and ts with the first
// decision's resetMs, so one decision looked like two).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LimiterStateMachine } from '../../src/cli/serve/limiter-state-machine.js';
import { encodeCommand } from '../../src/limiter/command-codec.js';
import { createLimiter } from '../../src/limiter/index.js';
import type { Command } from '../../src/limiter/types.js';
import { EntryType } from '../../src/raft/types.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';
import { openExclusiveDatabase } from '../../src/storage/sqlite-open.js';

t.test('a retried requestId reports the first decision index and ts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'first-answer-'));
  const db = openExclusiveDatabase(join(dir, 'state.db'));
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sm = new LimiterStateMachine(createLimiter(), new LimiterSnapshotStore(db), {
    snapshotEveryEntries: 1000,
  });
  const allow = (index: number, ts: number, requestId?: string) => {
    const command: Command = { type: 'allow', ts, key: 'k', limit: 2, windowMs: 1000 };
    if (requestId !== undefined) command.requestId = requestId;
    return sm.apply({ index, term: 1, type: EntryType.Normal, data: encodeCommand(command) });
  };
  const first = allow(1, 1000, 'r1');
  allow(2, 1010);
  const retry = allow(3, 1020, 'r1');
  const plain = allow(4, 1030);
  t.match(first, { kind: 'result', ts: 1000 });
  t.equal((first as { index?: number }).index, undefined, 'a first decision uses its own entry');
  t.match(retry, { kind: 'result', ts: 1000, index: 1 }, 'the retry reports entry 1 at ts 1000');
  t.match(retry, { result: { type: 'decision', duplicate: true, decision: { remaining: 1 } } });
  t.match(plain, { ts: 1030, result: { decision: { allowed: false } } }, 'not counted twice');
});

// The first decision's index lives in the engine's requestId table, so it survives the two ways
// a node loses its memory: a restart from its own SQLite snapshot and a leader's InstallSnapshot.
t.test('a retry after a restore still reports the first decision index and ts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'first-answer-restore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.db');
  const open = () => {
    const db = openExclusiveDatabase(path);
    const store = new LimiterSnapshotStore(db);
    const engine = createLimiter();
    if (store.appliedIndex > 0) engine.restore(store.records());
    const sm = new LimiterStateMachine(engine, store, { snapshotEveryEntries: 1000 });
    return { db, sm };
  };
  const allow = (sm: LimiterStateMachine, index: number, ts: number, requestId?: string) => {
    const command: Command = { type: 'allow', ts, key: 'k', limit: 2, windowMs: 1000 };
    if (requestId !== undefined) command.requestId = requestId;
    return sm.apply({ index, term: 1, type: EntryType.Normal, data: encodeCommand(command) });
  };

  const a = open();
  allow(a.sm, 1, 1000);
  allow(a.sm, 2, 1005, 'r1');
  allow(a.sm, 3, 1010);
  a.sm.persistSnapshot();
  const image = a.sm.snapshotData();
  a.db.close();

  const b = open();
  t.equal(b.sm.appliedIndex(), 3, 'restarted from the SQLite snapshot at 3');
  const retry = allow(b.sm, 4, 1020, 'r1');
  t.match(retry, { kind: 'result', ts: 1005, index: 2 }, 'restart: the retry names entry 2');
  t.match(retry, { result: { duplicate: true, decision: { allowed: true, remaining: 0 } } });
  b.db.close();

  const c = { dir: mkdtempSync(join(tmpdir(), 'first-answer-install-')) };
  t.teardown(() => rmSync(c.dir, { recursive: true, force: true }));
  const db = openExclusiveDatabase(join(c.dir, 'state.db'));
  t.teardown(() => db.close());
  const sm = new LimiterStateMachine(createLimiter(), new LimiterSnapshotStore(db), {
    snapshotEveryEntries: 1000,
  });
  sm.restore({ index: 3, term: 1, conf: { voters: ['n1'], learners: [] } }, image);
  const installed = allow(sm, 4, 1020, 'r1');
  t.match(installed, { kind: 'result', ts: 1005, index: 2 }, 'install: the retry names entry 2');
});
