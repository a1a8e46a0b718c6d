// A sliding-log key's snapshot record, byte by byte: the uniform-window fast path (read from the
// ring) must write exactly what the general path writes: live grants only, oldest first,
// [f64 ts][u32 cost][u32 windowMs] each, after [u8 algorithm][u32 count].
import t from 'tap';
import { createLimiter } from '../../src/limiter/index.js';
import type { StateRecord } from '../../src/limiter/types.js';
import { ALGORITHM_CODES } from '../../src/limiter/window-store.js';

function windowOf(records: Iterable<StateRecord>, key: string): Uint8Array | undefined {
  for (const r of records) if (r.kind === 'window' && r.key === key) return r.data;
  return undefined;
}

function expected(entries: Array<[ts: number, cost: number, windowMs: number]>): Uint8Array {
  const bytes = new Uint8Array(5 + entries.length * 16);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, ALGORITHM_CODES['sliding-log']);
  view.setUint32(1, entries.length);
  entries.forEach(([ts, cost, windowMs], i) => {
    view.setFloat64(5 + i * 16, ts);
    view.setUint32(5 + i * 16 + 8, cost);
    view.setUint32(5 + i * 16 + 12, windowMs);
  });
  return bytes;
}

const T0 = 1_700_000_000_000;

t.test('a unit-cost key: expired grants are left out, the rest in order', async (t) => {
  const limiter = createLimiter();
  for (const dt of [0, 500, 1000, 1000]) limiter.allow(T0 + dt, 'a', 'default', 1, 10, 1000);
  limiter.allow(T0 + 1200, 'other', 'default', 1, 10, 1000);
  t.same(
    windowOf(limiter.records(), 'a'),
    expected([
      [T0 + 500, 1, 1000],
      [T0 + 1000, 2, 1000],
    ]),
  );
});

t.test('a costed key that wrapped its ring', async (t) => {
  const limiter = createLimiter();
  // Limit 12 with cost 3: four grants fill the segment, later ones reuse it as a ring.
  for (let i = 0; i < 10; i++) limiter.allow(T0 + i * 100, 'c', 'default', 3, 12, 350);
  limiter.allow(T0 + 1000, 'other', 'default', 1, 10, 1000);
  t.same(
    windowOf(limiter.records(), 'c'),
    expected([
      [T0 + 700, 3, 350],
      [T0 + 800, 3, 350],
      [T0 + 900, 3, 350],
    ]),
  );
});

t.test('a key whose grants have different windows takes the general path', async (t) => {
  const limiter = createLimiter();
  limiter.allow(T0, 'm', 'default', 1, 10, 5000);
  limiter.allow(T0 + 10, 'm', 'default', 1, 10, 1000);
  limiter.allow(T0 + 20, 'other', 'default', 1, 10, 1000);
  t.same(
    windowOf(limiter.records(), 'm'),
    expected([
      [T0, 1, 5000],
      [T0 + 10, 1, 1000],
    ]),
  );
});

t.test('a key with nothing live has no record', async (t) => {
  const limiter = createLimiter();
  limiter.allow(T0, 'gone', 'default', 1, 10, 100);
  limiter.allow(T0 + 100, 'other', 'default', 1, 10, 1000);
  t.equal(windowOf(limiter.records(), 'gone'), undefined);
});
