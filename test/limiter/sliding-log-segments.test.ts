// Sliding-log segment management (entry widths, initial capacity, growth, compaction, ring wrap)
// under keys that fill up in lockstep, then expire: every decision must match the reference model.
import t from 'tap';
import { createLimiter, type Limiter } from '../../src/limiter/index.js';
import { LimiterModel } from '../reference/limiter-model.js';

const T0 = 1_700_000_000_000;
const OPTIONS = { requestRetentionMs: 1000, requestsMax: 16 };

/** Allows on both; returns a description of the first mismatch, or undefined. */
function allowBoth(
  engine: Limiter,
  model: LimiterModel,
  ts: number,
  key: string,
  cost: number,
): string | undefined {
  const got = engine.allow(ts, key, 'default', cost);
  const [want] = model.allow(ts, key, 'default', cost);
  const [a, b] = [JSON.stringify(got), JSON.stringify(want)];
  return a === b ? undefined : `ts ${ts - T0} key ${key} cost ${cost}: engine ${a} model ${b}`;
}

/** Round-robin passes over `keys` keys; `costOf` picks each call's cost, `dtOf` the time step. */
function lockstep(
  limit: number,
  windowMs: number,
  keys: number,
  passes: number,
  costOf: (pass: number, i: number) => number,
  dtOf: (pass: number, i: number) => number,
): { mismatches: string[]; engine: Limiter; model: LimiterModel; ts: number } {
  const engine = createLimiter(OPTIONS);
  const model = new LimiterModel(OPTIONS);
  engine.setRule(T0, 'default', { limit, windowMs });
  model.setRule(T0, 'default', { limit, windowMs });
  const mismatches: string[] = [];
  let ts = T0;
  for (let pass = 0; pass < passes; pass++) {
    for (let i = 0; i < keys; i++) {
      ts += dtOf(pass, i);
      const bad = allowBoth(engine, model, ts, `k${i}`, costOf(pass, i));
      if (bad !== undefined && mismatches.length < 5) mismatches.push(bad);
    }
  }
  return { mismatches, engine, model, ts };
}

t.test('keys under a small limit fill in lockstep, wrap their rings, then expire', async (t) => {
  // limit 5 fits the initial segment: the ring wraps as the window slides, nothing relocates.
  const run = lockstep(
    5,
    400,
    300,
    40,
    () => 1,
    (_pass, i) => (i % 7 === 0 ? 1 : 0),
  );
  t.same(run.mismatches, []);
  t.equal(run.engine.keyCount, 300);
  // Past every window: all keys go, and decisions still match.
  const later = run.ts + 10_000;
  for (let i = 0; i < 2000 && run.engine.keyCount > 0; i++) {
    run.engine.apply({ type: 'tick', ts: later });
  }
  t.equal(run.engine.keyCount, 0, 'every key evicted');
  t.equal(allowBoth(run.engine, run.model, later, 'k1', 1), undefined);
});

t.test('keys growing past the initial segment relocate and compact in lockstep', async (t) => {
  // limit 60 > the initial 8 entries: every key grows several times, the freed segments pile up
  // on the free lists and the slab compacts (thousands of keys make the garbage pass a chunk).
  const run = lockstep(
    60,
    5000,
    4000,
    50,
    () => 1,
    (_pass, i) => (i % 50 === 0 ? 1 : 0),
  );
  t.same(run.mismatches, []);
  // Then the oldest entries expire while new ones arrive: drop from the ring head after growth.
  const more = { ...run };
  let ts = run.ts + 2500;
  const mismatches: string[] = [];
  for (let pass = 0; pass < 20; pass++) {
    for (let i = 0; i < 4000; i += 3) {
      ts += i % 40 === 0 ? 7 : 0;
      const bad = allowBoth(more.engine, more.model, ts, `k${i}`, 1);
      if (bad !== undefined && mismatches.length < 5) mismatches.push(bad);
    }
  }
  t.same(mismatches, []);
});

t.test('unit keys widen on a cost other than 1 and on equal-ts merges', async (t) => {
  // Costs 1 mostly; some keys get a cost 2-3 mid-way (unit -> costed), some keys get several
  // grants in the same ms (merges), on keys of every fill level.
  const run = lockstep(
    12,
    300,
    500,
    30,
    (pass, i) => (i % 5 === 0 && pass % 4 === 3 ? 2 + (i % 2) : 1),
    (pass, i) => (i % 3 === 0 ? 0 : (pass + i) % 2),
  );
  t.same(run.mismatches, []);
  // Snapshot records restore to the same state: continue on a restored copy.
  const copy = createLimiter(OPTIONS);
  copy.restore(run.engine.records());
  const mismatches: string[] = [];
  let ts = run.ts;
  for (let pass = 0; pass < 10; pass++) {
    for (let i = 0; i < 500; i++) {
      ts += i % 9 === 0 ? 3 : 0;
      const cost = i % 7 === 0 ? 2 : 1;
      const bad = allowBoth(copy, run.model, ts, `k${i}`, cost);
      if (bad !== undefined && mismatches.length < 5) mismatches.push(bad);
    }
  }
  t.same(mismatches, []);
});

t.test('a key emptied by expiry starts again in its old segment, any cost', async (t) => {
  const engine = createLimiter(OPTIONS);
  const model = new LimiterModel(OPTIONS);
  engine.setRule(T0, 'default', { limit: 4, windowMs: 10 });
  model.setRule(T0, 'default', { limit: 4, windowMs: 10 });
  const mismatches: string[] = [];
  let ts = T0;
  for (let step = 0; step < 400; step++) {
    // Bursts, then gaps longer than the window (the ring empties), with costs of 1..3.
    ts += step % 6 === 5 ? 25 : step % 2;
    const bad = allowBoth(engine, model, ts, 'k', 1 + (step % 3 === 0 ? step % 4 : 0));
    if (bad !== undefined && mismatches.length < 5) mismatches.push(bad);
  }
  t.same(mismatches, []);
});
