// The files an embedded limiter leaves at a crash, taken as copies while it runs (what a
// killed process leaves is what is in the page cache: the files as they are), then opened.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { RateLimiter } from '../../src/embedded/index.js';
import { createLimiter } from '../../src/limiter/index.js';
import { LimiterJournal } from '../../src/storage/limiter-journal.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';
import { loadSqlite, openExclusiveDatabase } from '../../src/storage/sqlite-open.js';

const HOUR_MS = 60 * 60 * 1000;
const LIMIT = 100;
const KEYS = 3000;
const EVERY = 1000;
const STEPS_MAX = 1000;

/** Copies the state file, its WAL and the journal files matching `pick` into a new dir. */
function copyState(from: string, to: string, pick: (name: string) => boolean): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const state = name === 'state.db' || name === 'state.db-wal';
    if ((state || name.startsWith('state.db.journal-')) && pick(name)) {
      copyFileSync(join(from, name), join(to, name));
    }
  }
}

/** Asserts every key holds exactly its grants (a check records one more: used = limit - remaining - 1). */
function expectCounts(t: Test, dir: string, counts: number[], what: string): void {
  const limiter = new RateLimiter({ path: join(dir, 'state.db') });
  let wrong = 0;
  for (let k = 0; k < KEYS; k++) {
    const d = limiter.check(`k${k}`);
    if (d.limit - d.remaining - 1 !== counts[k]) wrong++;
  }
  limiter.close();
  t.equal(wrong, 0, `${what}: every key holds exactly its grants`);
}

t.test(
  'a crash while a snapshot is half written, or between its commit and the journal delete',
  async (t) => {
    const root = t.testdir();
    const live = join(root, 'live');
    mkdirSync(live);
    const limiter = new RateLimiter({
      path: join(live, 'state.db'),
      snapshotEveryCommands: EVERY,
      rules: { default: { limit: LIMIT, windowMs: HOUR_MS } },
    });
    const counts = new Array<number>(KEYS).fill(0);
    let calls = 0;
    const grant = (n: number) => {
      for (let i = 0; i < n; i++, calls++) {
        if (!limiter.allow(`k${calls % KEYS}`)) throw new Error('denied');
        counts[calls % KEYS]! += 1;
      }
    };
    const journals = () => readdirSync(live).filter((n) => n.includes('.journal-'));

    // The rule is command 1: the 1000th command captures a snapshot of ~1000 keys, written a
    // slice (64 records) per later call; the first journal file stays until it commits.
    grant(EVERY + 4);
    t.same(
      journals(),
      ['state.db.journal-1', 'state.db.journal-1001'],
      'a snapshot is being written',
    );
    copyState(live, join(root, 'half'), () => true);
    const countsAtHalf = counts.slice();
    const journalsAtHalf = journals();

    for (let i = 0; i < STEPS_MAX && journals().includes('state.db.journal-1'); i++) grant(1);
    t.same(journals(), ['state.db.journal-1001'], 'the snapshot committed; its journal is gone');
    // The committed snapshot with the journal as it was before the delete.
    copyState(live, join(root, 'between'), (n) => !n.includes('.journal-'));
    for (const name of journalsAtHalf) {
      copyFileSync(join(root, 'half', name), join(root, 'between', name));
    }

    grant(2 * KEYS);
    limiter.close();
    t.same(journals(), [], 'a clean close leaves no journal');

    expectCounts(t, join(root, 'half'), countsAtHalf, 'half written');
    expectCounts(t, join(root, 'between'), countsAtHalf, 'committed, journal not yet deleted');
    expectCounts(t, live, counts, 'closed');
  },
);

t.test(
  'a state file whose journal is a table (older files) is replayed, then emptied',
  async (t) => {
    const path = join(t.testdir(), 'state.db');
    const engine = createLimiter();
    const db = openExclusiveDatabase(path);
    const store = new LimiterSnapshotStore(db);
    const table = new LimiterJournal(db);
    const setRule = {
      type: 'setRule',
      ts: Date.now(),
      name: 'default',
      spec: { limit: 5, windowMs: HOUR_MS },
    } as const;
    engine.apply(setRule);
    engine.apply({ type: 'allow', ts: Date.now(), key: 'a' });
    engine.writeSnapshot(store, 2, 'full');
    const later = [
      { type: 'allow', ts: Date.now(), key: 'a' },
      { type: 'allow', ts: Date.now(), key: 'b' },
    ] as const;
    for (const [i, c] of later.entries()) table.append(3 + i, c);
    table.append(1, setRule); // below the snapshot: skipped
    db.close();

    const limiter = new RateLimiter({ path });
    t.match(limiter.check('a'), { allowed: true, remaining: 2 }, 'the snapshot and the table rows');
    t.match(limiter.check('b'), { allowed: true, remaining: 3 });
    limiter.close();
    const side = new (loadSqlite())(path, { readonly: true });
    t.equal(
      (side.prepare('SELECT count(*) AS n FROM limiter_journal').get() as { n: number }).n,
      0,
      'table emptied',
    );
    side.close();

    const reopened = new RateLimiter({ path });
    t.match(reopened.check('a'), { allowed: true, remaining: 1 }, 'nothing replayed twice');
    reopened.close();
  },
);
