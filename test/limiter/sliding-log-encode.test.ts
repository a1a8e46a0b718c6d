// A sliding-log key's snapshot record, byte by byte (src/limiter/sliding-log-record.ts). A key
// whose grants share one window is written as the compact one-window record (code 4: [u8 4][u8
// flags][u32 windowMs][f64 base ts][u32 count], then u32 ts - base per live grant, plus a u32
// cost if costed); a key with mixed windows as the per-entry record (code 1: [u8 1][u32 count],
// then [f64 ts][u32 cost][u32 windowMs] per live grant). Both read back to the same state, the
// per-entry form is what goes to peers (portableWindow), and an unknown code is refused.
import fc from 'fast-check';
import t from 'tap';
import { createLimiter, type Limiter } from '../../src/limiter/index.js';
import {
  forEachLogEntry,
  portableWindow,
  SLIDING_LOG_UNIFORM_CODE,
  uniformWriter,
} from '../../src/limiter/sliding-log-record.js';
import type { StateRecord } from '../../src/limiter/types.js';
import { ALGORITHM_CODES } from '../../src/limiter/window-store.js';

function windowOf(records: Iterable<StateRecord>, key: string): Uint8Array | undefined {
  for (const r of records) if (r.kind === 'window' && r.key === key) return r.data;
  return undefined;
}

/** The per-entry (code 1) record of these grants. */
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

/** LEB128 of a value below 2^32. */
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** The one-window (code 4) record of these grants, written out by hand. */
function compact(
  windowMs: number,
  costed: boolean,
  entries: Array<[ts: number, cost: number]>,
): Uint8Array {
  const head = new Uint8Array(18);
  const view = new DataView(head.buffer);
  view.setUint8(0, SLIDING_LOG_UNIFORM_CODE);
  view.setUint8(1, costed ? 1 : 0);
  view.setUint32(2, windowMs);
  const base = entries[0]![0];
  view.setFloat64(6, base);
  view.setUint32(14, entries.length);
  const body: number[] = [];
  let prev = base;
  for (const [ts, cost] of entries) {
    body.push(...varint(ts - prev));
    prev = ts;
    if (costed) body.push(...varint(cost));
  }
  return Uint8Array.from([...head, ...body]);
}

const T0 = 1_700_000_000_000;

t.test('a unit-cost key: expired grants are left out, the rest in order', async (t) => {
  const limiter = createLimiter();
  for (const dt of [0, 500, 1000, 1000]) limiter.allow(T0 + dt, 'a', 'default', 1, 10, 1000);
  limiter.allow(T0 + 1200, 'other', 'default', 1, 10, 1000);
  // Two grants at T0 + 1000 merged into one entry of cost 2: the key became costed.
  const data = windowOf(limiter.records(), 'a')!;
  t.same(
    data,
    compact(1000, true, [
      [T0 + 500, 1],
      [T0 + 1000, 2],
    ]),
  );
  t.same(
    portableWindow(data, 'a'),
    expected([
      [T0 + 500, 1, 1000],
      [T0 + 1000, 2, 1000],
    ]),
  );
});

t.test('a unit-cost key: a varint per live grant', async (t) => {
  const limiter = createLimiter();
  for (const dt of [0, 500, 900, 1300]) limiter.allow(T0 + dt, 'u', 'default', 1, 10, 1000);
  limiter.allow(T0 + 1400, 'other', 'default', 1, 10, 1000);
  const data = windowOf(limiter.records(), 'u')!;
  t.same(
    data,
    compact(1000, false, [
      [T0 + 500, 1],
      [T0 + 900, 1],
      [T0 + 1300, 1],
    ]),
  );
  t.equal(data.length, 18 + 1 + 2 + 2, 'deltas 0, 400, 400: one byte, then two each');
});

t.test('a costed key that wrapped its ring', async (t) => {
  const limiter = createLimiter();
  // Limit 12 with cost 3: four grants fill the segment, later ones reuse it as a ring.
  for (let i = 0; i < 10; i++) limiter.allow(T0 + i * 100, 'c', 'default', 3, 12, 350);
  limiter.allow(T0 + 1000, 'other', 'default', 1, 10, 1000);
  t.same(
    windowOf(limiter.records(), 'c'),
    compact(350, true, [
      [T0 + 700, 3],
      [T0 + 800, 3],
      [T0 + 900, 3],
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

/** Window records as the per-entry form an older version writes (and peers receive). */
function asPortable(records: Iterable<StateRecord>): StateRecord[] {
  return [...records].map((r) =>
    r.kind === 'window' ? { ...r, data: portableWindow(r.data, r.key) } : r,
  );
}

function json(records: Iterable<StateRecord>): string[] {
  return [...records]
    .map((r) => JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? [...v] : v)))
    .sort();
}

interface Cmd {
  dt: number;
  key: string;
  cost: number;
  limit: number;
  windowMs: number;
}

const command: fc.Arbitrary<Cmd> = fc.record({
  dt: fc.integer({ min: 0, max: 400 }),
  key: fc.constantFrom('a', 'b', 'c', 'd'),
  cost: fc.constantFrom(1, 1, 1, 2, 5),
  limit: fc.constantFrom(3, 10, 40),
  windowMs: fc.constantFrom(300, 1000, 1000, 1000, 2500),
});

function run(limiter: Limiter, ts: number, cmds: Cmd[]) {
  const out: unknown[] = [];
  for (const c of cmds) {
    ts += c.dt;
    out.push(limiter.allow(ts, c.key, 'default', c.cost, c.limit, c.windowMs));
  }
  return { ts, out };
}

t.test('property: both record forms restore the same state, which decides alike', async () => {
  fc.assert(
    fc.property(
      fc.array(command, { maxLength: 120 }),
      fc.array(command, { maxLength: 60 }),
      (before, after) => {
        const original = createLimiter();
        const { ts } = run(original, T0, before);
        const records = [...original.records()];
        for (const r of records) {
          if (r.kind !== 'window') continue;
          // Every record reads back to grants in ts order; its portable form has the same grants.
          const grants: number[][] = [];
          forEachLogEntry(r.data, r.key, (at, cost, w) => grants.push([at, cost, w]));
          const again: number[][] = [];
          forEachLogEntry(portableWindow(r.data, r.key), r.key, (at, cost, w) =>
            again.push([at, cost, w]),
          );
          if (JSON.stringify(grants) !== JSON.stringify(again)) return false;
          if (grants.length === 0) return false;
        }
        const fromCompact = createLimiter();
        fromCompact.restore(records);
        const fromPortable = createLimiter();
        fromPortable.restore(asPortable(records));
        const want = json(records);
        if (JSON.stringify(json(fromCompact.records())) !== JSON.stringify(want)) return false;
        if (JSON.stringify(json(fromPortable.records())) !== JSON.stringify(want)) return false;
        const a = JSON.stringify(run(original, ts, after).out);
        return (
          a === JSON.stringify(run(fromCompact, ts, after).out) &&
          a === JSON.stringify(run(fromPortable, ts, after).out)
        );
      },
    ),
    { numRuns: 400 },
  );
});

t.test('a uniform key is written in the compact form; the old form still loads', async (t) => {
  const limiter = createLimiter();
  for (let i = 0; i < 42; i++) limiter.allow(T0 + i * 100, 'k', 'default', 1, 1000, 60_000);
  const data = windowOf(limiter.records(), 'k')!;
  t.equal(data[0], SLIDING_LOG_UNIFORM_CODE);
  t.equal(data.length, 18 + 42, '60 bytes (deltas of 100 ms) where the per-entry form takes 677');
  const old = portableWindow(data, 'k');
  t.equal(old.length, 5 + 42 * 16);
  // A store file written by an older version: per-entry records only.
  const restored = createLimiter();
  restored.restore(asPortable(limiter.records()));
  t.same(windowOf(restored.records(), 'k'), data, 'rewritten compact at its next snapshot');
});

t.test('a record code no version knows is refused, never guessed at', async (t) => {
  const limiter = createLimiter();
  limiter.allow(T0, 'k', 'default', 1, 10, 1000);
  const records = [...limiter.records()];
  for (const code of [0, 5, 9, 255]) {
    const bad = records.map((r) =>
      r.kind === 'window' ? { ...r, data: Uint8Array.from([code, ...r.data.subarray(1)]) } : r,
    );
    t.throws(() => createLimiter().restore(bad), { code: 'storage_corrupt' }, `code ${code}`);
  }
});

t.test('a malformed one-window record is refused', async (t) => {
  const limiter = createLimiter();
  for (let i = 0; i < 3; i++) limiter.allow(T0 + i, 'k', 'default', 1, 10, 1000);
  const data = windowOf(limiter.records(), 'k')!;
  const mutate = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = Uint8Array.from(data);
    f(b, new DataView(b.buffer));
    return b;
  };
  const cases: Record<string, Uint8Array> = {
    truncated: data.subarray(0, data.length - 1),
    'extra byte': Uint8Array.from([...data, 0]),
    'unknown flag': mutate((_b, v) => v.setUint8(1, 2)),
    'zero window': mutate((_b, v) => v.setUint32(2, 0)),
    'count too big': mutate((_b, v) => v.setUint32(14, 4)),
    'offsets past 2^32': Uint8Array.from([
      ...data.subarray(0, 18),
      ...[0xff, 0xff, 0xff, 0xff, 0x0f],
      ...[0x01],
      ...[0x01],
    ]),
    'varint over 32 bits': Uint8Array.from([
      ...data.subarray(0, 18),
      ...[0xff, 0xff, 0xff, 0xff, 0x1f],
      ...[0x01, 0x01],
    ]),
    'varint cut short': Uint8Array.from([...data.subarray(0, 18), 0x00, 0x01, 0x81]),
    'base not an integer': mutate((_b, v) => v.setFloat64(6, T0 + 0.5)),
    'header only, short': data.subarray(0, 17),
  };
  for (const [why, bytes] of Object.entries(cases)) {
    t.throws(() => forEachLogEntry(bytes, 'k', () => {}), { code: 'storage_corrupt' }, why);
    t.throws(() => portableWindow(bytes, 'k'), { code: 'storage_corrupt' }, `${why} (portable)`);
  }
});

t.test('property: a one-window record decodes to the grants written, at any size', async () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 50 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 0xffffffff }),
      (offsets, costed, windowMs) => {
        offsets.sort((a, b) => a - b);
        const costs = offsets.map((o) => (costed ? 1 + (o % 1_000_000_000) : 1));
        const writer = uniformWriter();
        writer.start(offsets.length, costed, windowMs, T0);
        for (let i = 0; i < offsets.length; i++) writer.grant(offsets[i]!, costs[i]!);
        const data = writer.finish();
        const got: number[][] = [];
        forEachLogEntry(data, 'k', (ts, cost, w) => got.push([ts, cost, w]));
        const want = offsets.map((o, i) => [T0 + o, costs[i]!, windowMs]);
        return JSON.stringify(got) === JSON.stringify(want);
      },
    ),
    { numRuns: 500 },
  );
});
