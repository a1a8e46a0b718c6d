// One timer bounds every waiting request of an API: answers pass through, late work becomes
// 'unavailable' at its own deadline (not at a later one's), and an idle sweep holds no timer.
import t from 'tap';
import { DeadlineSweep } from '../../src/api/deadline-sweep.js';
import { isDrlError } from '../../src/errors.js';
import { collectedCount } from '../gc-collected.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((r) => setTimeout(() => r(value), ms));
}

t.test('answers and failures pass through; settled entries leave at once', async (t) => {
  const sweep = new DeadlineSweep(1000);
  t.equal(await sweep.bound(Promise.resolve(7)), 7);
  await t.rejects(sweep.bound(Promise.reject(new Error('boom'))), /boom/);
  const many = Array.from({ length: 5000 }, (_, i) => sweep.bound(later(i % 5, i)));
  t.same((await Promise.all(many)).slice(0, 3), [0, 1, 2]);
  t.equal(sweep.size, 0);
});

t.test('work slower than the timeout is unavailable at its own deadline', async (t) => {
  const sweep = new DeadlineSweep(50);
  const started = performance.now();
  const slow = sweep.bound(later(400, 'late'));
  await sleep(20);
  const fast = sweep.bound(later(5, 'quick'));
  const slower = sweep.bound(new Promise<string>(() => {}));
  t.equal(await fast, 'quick');
  const err = await slow.then(
    () => null,
    (e: unknown) => e,
  );
  const firstMs = performance.now() - started;
  t.ok(isDrlError(err) && err.code === 'unavailable', 'the slow one is unavailable');
  t.ok(firstMs >= 45 && firstMs < 300, `first deadline after ${firstMs.toFixed(0)} ms`);
  await t.rejects(slower, { code: 'unavailable' });
  const secondMs = performance.now() - started;
  t.ok(secondMs >= 65, `second deadline after ${secondMs.toFixed(0)} ms`);
  t.equal(sweep.size, 0);
});

t.test('an idle sweep keeps no timer (the process can exit)', async (t) => {
  const sweep = new DeadlineSweep(60_000);
  await sweep.bound(later(1, 'x'));
  // A timer still armed for 60 s would keep the event loop alive.
  t.equal((sweep as unknown as { timer: unknown }).timer, null);
});

t.test('a timeout that is not positive is refused', async (t) => {
  t.throws(() => new DeadlineSweep(0));
});

t.test('a settled request is not kept while later ones still wait', async (t) => {
  const sweep = new DeadlineSweep(60_000);
  const refs: WeakRef<object>[] = [];
  const n = 3000;
  // Resolvers are dropped once used: a resolve function holds its promise, and so the value.
  const resolvers: (((v: object) => void) | null)[] = [];
  const bounds: Promise<object>[] = [];
  for (let i = 0; i < n; i++) {
    bounds.push(sweep.bound(new Promise<object>((r) => resolvers.push(r))));
  }
  // All but the last settle in arrival order: the head passes them, the last keeps it busy.
  for (let i = 0; i < n - 1; i++) {
    const value = { i };
    refs.push(new WeakRef(value));
    resolvers[i]!(value);
    resolvers[i] = null;
  }
  for (let i = 0; i < n - 1; i++) await bounds[i];
  bounds.length = 0;
  const collected = await collectedCount(refs);
  // A few may still be held by a register or the GC; the old FIFO kept hundreds (2,524 of 2,999).
  t.ok(collected >= refs.length - 10, `${collected} of ${refs.length} answers collected`);
  t.equal(sweep.size, 1);
  resolvers[n - 1]!({});
});
