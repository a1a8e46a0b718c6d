// Deferred (copy-on-write) snapshots: read a few records at a time while commands go on applying,
// they must write exactly what an eager snapshot taken at the capture would have written.
import fc from 'fast-check';
import t from 'tap';
import { createLimiter, type Limiter, type StateRecord } from '../../src/limiter/index.js';
import { MemoryWriter } from '../reference/engine-harness.js';

const T0 = 1_700_000_000_000;
/** Past a Uint32 of milliseconds: the sliding log's epoch moves (every key rewritten). */
const EPOCH_JUMP_MS = 50 * 24 * 3_600_000;

function json(records: Iterable<StateRecord>): string[] {
  return [...records]
    .map((r) => JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? [...v] : v)))
    .sort();
}

type Step = {
  dt: number;
  key: number;
  rule: 'inline' | 'sc' | 'tb' | 'swap' | 'drop' | 'jump';
  window: number;
  cost: number;
  capture: boolean;
  /** Records the pending deferred snapshot writes after this step. */
  drain: number;
};

const step = fc.record<Step>({
  dt: fc.integer({ min: 0, max: 30 }),
  key: fc.integer({ min: 0, max: 10 }),
  rule: fc.constantFrom('inline', 'inline', 'inline', 'sc', 'tb', 'swap', 'drop', 'jump'),
  window: fc.constantFrom(20, 20, 20, 35),
  cost: fc.constantFrom(1, 1, 2),
  capture: fc.boolean(),
  drain: fc.integer({ min: 0, max: 3 }),
});

function setup(limiter: Limiter): void {
  limiter.setRule(T0, 'sc', { limit: 4, windowMs: 25, algorithm: 'sliding-counter' });
  limiter.setRule(T0, 'tb', { limit: 3, windowMs: 30, algorithm: 'token-bucket', burst: 1 });
}

/** One command, applied alike to both twins. */
function apply(limiter: Limiter, s: Step, ts: number, swapped: boolean): void {
  const key = `k${s.key}`;
  if (s.rule === 'inline') {
    // requestIds that repeat (a retry, or a conflict: refused alike by both twins), expire and
    // overflow the small table (removals while a snapshot is frozen).
    const requestId = s.cost === 2 ? undefined : `r${s.dt % 5}-${s.key}`;
    try {
      limiter.allow(ts, key, 'default', s.cost, 3, s.window, requestId, ts - T0);
    } catch (err) {
      if ((err as { code?: string }).code !== 'request_id_conflict') throw err;
    }
  } else if (s.rule === 'sc' || s.rule === 'tb') limiter.allow(ts, key, s.rule, s.cost);
  else if (s.rule === 'swap') {
    // Another algorithm under 'sc' (swapped: now a sliding log): its old windows are dropped,
    // maybe while frozen.
    const algorithm = swapped ? 'sliding-log' : 'sliding-counter';
    limiter.setRule(ts, 'sc', { limit: 4, windowMs: 25, algorithm });
  } else if (s.rule === 'drop') {
    limiter.deleteRule(ts, 'tb');
    limiter.setRule(ts, 'tb', { limit: 3, windowMs: 30, algorithm: 'token-bucket', burst: 1 });
  }
}

t.test('property: a deferred snapshot writes what an eager one at its capture wrote', async () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 250 }), (steps) => {
      const options = { requestRetentionMs: 60, requestsMax: 6 };
      const eager = createLimiter(options);
      const lazy = createLimiter(options);
      setup(eager);
      setup(lazy);
      const eagerOut = new MemoryWriter();
      const lazyOut = new MemoryWriter();
      eager.writeSnapshot(eagerOut, 1, 'full');
      lazy.writeSnapshot(lazyOut, 1, 'full');
      let pending: ReturnType<Limiter['captureSnapshot']> | null = null;
      let ts = T0;
      let index = 1;
      let swapped = false;
      for (const s of steps) {
        ts += s.rule === 'jump' ? EPOCH_JUMP_MS : s.dt;
        if (s.rule === 'swap') swapped = !swapped;
        apply(eager, s, ts, swapped);
        apply(lazy, s, ts, swapped);
        if (pending?.writeSome(lazyOut, s.drain)) {
          lazyOut.commit();
          pending = null;
        }
        if (s.capture && pending === null) {
          index++;
          eager.writeSnapshot(eagerOut, index, 'incremental');
          pending = lazy.captureSnapshot(index);
          lazyOut.begin(index, 'incremental');
        }
      }
      if (pending !== null) {
        while (!pending.writeSome(lazyOut, 2)) {}
        lazyOut.commit();
      }
      if (
        JSON.stringify(json(lazyOut.records.values())) !==
        JSON.stringify(json(eagerOut.records.values()))
      ) {
        return false;
      }
      // The dirty marks went on across the deferred write: one more snapshot each, then restore.
      eager.writeSnapshot(eagerOut, index + 1, 'incremental');
      const last = lazy.captureSnapshot(index + 1);
      lazyOut.begin(index + 1, 'incremental');
      while (!last.writeSome(lazyOut, 5)) {}
      lazyOut.commit();
      const restored = createLimiter(options);
      restored.restore(lazyOut.records.values());
      return (
        JSON.stringify(json(lazyOut.records.values())) ===
          JSON.stringify(json(eagerOut.records.values())) &&
        JSON.stringify(json(restored.records())) === JSON.stringify(json(lazy.records()))
      );
    }),
    { numRuns: 400 },
  );
});

t.test('one deferred snapshot at a time; none beside an eager one', async (t) => {
  const limiter = createLimiter();
  const out = new MemoryWriter();
  t.throws(() => limiter.captureSnapshot(1), { code: 'internal' }, 'needs a full one first');
  limiter.writeSnapshot(out, 1, 'full');
  for (let i = 0; i < 50; i++) limiter.allow(T0 + i, `k${i}`, 'default', 1, 5, 1000);
  const first = limiter.captureSnapshot(2);
  t.equal(first.records, 52, 'two meta records and 50 frozen keys');
  t.throws(() => limiter.captureSnapshot(3), { code: 'internal' });
  t.throws(() => limiter.writeSnapshot(out, 3, 'incremental'), { code: 'internal' });
  first.release();
  t.throws(() => first.writeSome(out, 1), /ended/, 'a released snapshot writes nothing');
  const second = limiter.captureSnapshot(3);
  out.begin(3, 'incremental');
  t.ok(second.writeSome(out, 10), 'nothing changed since the release: only meta records');
  out.commit();
});

t.test('a key changed while frozen is written as it was at the capture', async (t) => {
  const limiter = createLimiter();
  const out = new MemoryWriter();
  limiter.writeSnapshot(out, 1, 'full');
  limiter.allow(T0, 'a', 'default', 1, 5, 1000);
  const before = json(limiter.records());
  const deferred = limiter.captureSnapshot(2);
  limiter.allow(T0 + 1, 'a', 'default', 1, 5, 1000);
  limiter.allow(T0 + 2, 'a', 'default', 1, 5, 1000);
  out.begin(2, 'incremental');
  t.ok(deferred.writeSome(out, 100));
  out.commit();
  t.same(json(out.records.values()), before, 'the state at the capture, not the live one');
  t.not(JSON.stringify(json(limiter.records())), JSON.stringify(before), 'the live one moved on');
});
