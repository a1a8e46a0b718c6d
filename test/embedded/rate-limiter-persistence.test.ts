import { join } from 'node:path';
import t from 'tap';
import { RateLimiter } from '../../src/embedded/index.js';
import { createLimiter } from '../../src/limiter/index.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';
import { loadSqlite, openExclusiveDatabase } from '../../src/storage/sqlite-open.js';

const HOUR_MS = 60 * 60 * 1000;

for (const snapshotEveryCommands of [1, 3, 10_000]) {
  t.test(
    `rules, overrides and windows survive a reopen (snapshot every ${snapshotEveryCommands})`,
    async (t) => {
      const path = join(t.testdir(), 'state.db');
      const first = new RateLimiter({
        path,
        snapshotEveryCommands,
        rules: { default: { limit: 3, windowMs: HOUR_MS }, gone: { limit: 1, windowMs: 1000 } },
      });
      first.setRule('api', { limit: 2, windowMs: HOUR_MS, algorithm: 'sliding-counter' });
      first.setOverride('default', 'vip', { limit: 5, windowMs: HOUR_MS });
      first.deleteRule('gone');
      t.same(
        [1, 2, 3, 4].map(() => first.allow('a')),
        [true, true, true, false],
      );
      t.equal(first.allow('vip'), true);
      t.equal(first.allow('a', { rule: 'api' }), true);
      t.equal(first.allow('b', { limit: 2, windowMs: HOUR_MS, cost: 2 }), true);
      first.close();

      const second = new RateLimiter({ path, snapshotEveryCommands });
      t.match(second.check('a'), { allowed: false, limit: 3, remaining: 0 }, 'grants kept');
      t.match(second.check('vip'), { allowed: true, limit: 5, remaining: 3 }, 'override kept');
      t.match(second.check('a', { rule: 'api' }), { allowed: true, limit: 2, remaining: 0 });
      t.match(second.check('b', { limit: 2, windowMs: HOUR_MS }), { allowed: false });
      t.throws(() => second.allow('a', { rule: 'gone' }), { code: 'unknown_rule' }, 'delete kept');
      second.close();

      const third = new RateLimiter({ path, rules: { default: { limit: 10, windowMs: HOUR_MS } } });
      t.match(
        third.check('a'),
        { allowed: true, limit: 10, remaining: 6 },
        'rules given at open replace stored ones; grants stay',
      );
      third.close();
    },
  );
}

t.test('time never goes backwards across a reopen', async (t) => {
  const path = join(t.testdir(), 'state.db');
  // A state file whose last decision is an hour in this machine's future (a clock stepped back).
  const futureMs = Date.now() + HOUR_MS;
  const engine = createLimiter();
  engine.apply({
    type: 'setRule',
    ts: futureMs,
    name: 'default',
    spec: { limit: 1, windowMs: 10_000 },
  });
  engine.apply({ type: 'allow', ts: futureMs, key: 'k' });
  const db = openExclusiveDatabase(path);
  engine.writeSnapshot(new LimiterSnapshotStore(db), 2, 'full');
  db.close();

  const limiter = new RateLimiter({ path });
  const d = limiter.check('k');
  t.equal(d.allowed, false, 'decided at or after the stored time, so the stored grant counts');
  t.ok(d.retryAfterMs !== null && d.retryAfterMs <= 10_000, `retryAfterMs ${d.retryAfterMs}`);
  limiter.close();
});

t.test('a state file has one owner', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const owner = new RateLimiter({ path, rules: { default: { limit: 1, windowMs: HOUR_MS } } });
  t.throws(() => new RateLimiter({ path }), { code: 'storage_locked' });
  t.equal(owner.allow('k'), true, 'the refused opener disturbed nothing');
  owner.close();
  const next = new RateLimiter({ path, durability: 'fsync' });
  t.equal(next.allow('k'), false);
  next.close();
});

t.test('after a failed snapshot the next one is full, so no change is lost', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const rules = { default: { limit: 5, windowMs: HOUR_MS } };
  const limiter = new RateLimiter({ path, rules, snapshotEveryCommands: 3 });
  // Another connection (the state file is shared-readable) fails every snapshot that writes
  // key 'poison' while the flag row is there.
  const side = new (loadSqlite())(path);
  side.exec(`CREATE TABLE poison_flag (x); INSERT INTO poison_flag VALUES (1);
    CREATE TRIGGER poison BEFORE INSERT ON limiter_windows
    WHEN NEW.key = 'poison' AND EXISTS (SELECT 1 FROM poison_flag)
    BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);
  t.equal(limiter.allow('a'), true);
  t.throws(() => limiter.allow('poison'), /poisoned/, 'the snapshot after this grant fails');
  side.exec('DELETE FROM poison_flag');
  side.close();
  // Its capture consumed the change marks of a and poison: an incremental snapshot here would
  // miss them while the journal that holds them gets deleted.
  for (const key of ['b', 'c', 'd']) t.equal(limiter.allow(key), true);
  limiter.close();

  const reopened = new RateLimiter({ path });
  for (const key of ['a', 'poison', 'b']) {
    t.match(reopened.check(key), { allowed: true, remaining: 3 }, `${key}: its grant was kept`);
  }
  reopened.close();
});
