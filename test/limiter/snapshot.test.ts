// Snapshots: the byte codec's framing and checks, incremental == full, and restored engines
// deciding like the original.
import fc from 'fast-check';
import t from 'tap';
import {
  createLimiter,
  decodeSnapshot,
  encodeSnapshot,
  FRAME_BYTES_MAX,
  type Limiter,
  type StateRecord,
} from '../../src/limiter/index.js';
import { MemoryWriter, shuffled } from '../reference/engine-harness.js';

const T0 = 1_700_000_000_000;

function busy(): Limiter {
  const limiter = createLimiter();
  limiter.setRule(T0, 'default', { limit: 5, windowMs: 10_000 });
  limiter.setRule(T0, 'tb', { limit: 5, windowMs: 1000, algorithm: 'token-bucket', burst: 3 });
  limiter.setRule(T0, 'sc', { limit: 5, windowMs: 1000, algorithm: 'sliding-counter' });
  limiter.setOverride(T0, 'default', 'vip', { limit: 50, windowMs: 500 });
  for (let i = 0; i < 3000; i++) {
    const rule = ['default', 'tb', 'sc'][i % 3]!;
    limiter.allow(
      T0 + i,
      `key-${i % 700}-${'é'.repeat(i % 5)}`,
      rule,
      1 + (i % 2),
      undefined,
      undefined,
      i % 7 === 0 ? `req-${i}` : undefined,
      // Half the requestIds carry a log index (a replicated node's), half none (embedded).
      i % 14 === 0 ? 1000 + i : undefined,
    );
  }
  return limiter;
}

function json(records: Iterable<StateRecord>): string[] {
  return [...records]
    .map((r) => JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? [...v] : v)))
    .sort();
}

t.test('a smaller frame size: more, smaller frames of the same records', async (t) => {
  const limiter = busy();
  const big = [...encodeSnapshot(limiter.records())];
  const small = [...encodeSnapshot(limiter.records(), 8 * 1024)];
  t.ok(small.length > big.length, `${small.length} frames of 8 KiB, ${big.length} of 64 KiB`);
  for (const frame of small) t.ok(frame.length <= 8 * 1024 + 12 + 1024, 'bounded frame');
  t.same(json(decodeSnapshot(small)), json(limiter.records()));
  for (const size of [0, FRAME_BYTES_MAX + 1]) {
    t.throws(() => [...encodeSnapshot(limiter.records(), size)], { code: 'internal' });
  }
});

t.test('codec round-trips, in bounded frames, under any re-chunking', async (t) => {
  const limiter = busy();
  const frames = [...encodeSnapshot(limiter.records())];
  t.ok(frames.length > 1, 'several frames');
  for (const frame of frames) t.ok(frame.length <= FRAME_BYTES_MAX + 12 + 1024, 'bounded frame');
  const bytes = Buffer.concat(frames);
  t.same(json(decodeSnapshot(frames)), json(limiter.records()));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 20 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const p of [...points, bytes.length]) {
        chunks.push(bytes.subarray(from, p));
        from = p;
      }
      return (
        JSON.stringify(json(decodeSnapshot(chunks))) === JSON.stringify(json(limiter.records()))
      );
    }),
    { numRuns: 30 },
  );
});

t.test('a requestId keeps its log index through the codec and a restore', async (t) => {
  const records = [...busy().records()].filter((r) => r.kind === 'request');
  const indexed = records.filter((r) => r.kind === 'request' && r.logIndex !== undefined);
  t.ok(indexed.length > 0 && indexed.length < records.length, 'both kinds of request record');
  const restored = createLimiter();
  restored.restore(decodeSnapshot([...encodeSnapshot(busy().records())]));
  const retry = restored.apply(
    { type: 'allow', ts: T0 + 3000, key: 'key-0-', rule: 'default', cost: 1, requestId: 'req-0' },
    9999,
  );
  t.match(retry, { duplicate: true, firstTs: T0, firstLogIndex: 1000 });
});

t.test('a record bigger than a frame gets a frame of its own', async (t) => {
  const limiter = createLimiter();
  limiter.setRule(T0, 'default', { limit: 100_000, windowMs: 100_000_000 });
  // 200 ms apart: two bytes per grant in the one-window record, 40,000 bytes past a frame.
  for (let i = 0; i < 50_000; i++) limiter.allow(T0 + i * 200, 'big');
  const frames = [...encodeSnapshot(limiter.records())];
  t.ok(
    frames.some((f) => f.length > FRAME_BYTES_MAX),
    'an oversized frame',
  );
  t.same(json(decodeSnapshot(frames)), json(limiter.records()));
});

t.test('corruption and truncation are detected', async (t) => {
  const frames = [...encodeSnapshot(busy().records())];
  const bytes = Buffer.concat(frames);
  for (const at of [0, 5, 13, Math.floor(bytes.length / 2), bytes.length - 3]) {
    const bad = Buffer.from(bytes);
    bad[at] = bad[at]! ^ 0x40;
    t.throws(() => [...decodeSnapshot([bad])], { code: 'storage_corrupt' }, `flip at ${at}`);
  }
  t.throws(() => [...decodeSnapshot([bytes.subarray(0, bytes.length - 1)])], {
    code: 'storage_corrupt',
  });
  t.throws(
    () => [...decodeSnapshot(frames.slice(0, -1))],
    { code: 'storage_corrupt' },
    'no end record',
  );
  t.throws(
    () => [...decodeSnapshot([...frames, frames[0]!])],
    { code: 'storage_corrupt' },
    'data after end',
  );
});

t.test('restore rejects inconsistent records', async (t) => {
  const records = [...busy().records()];
  const window = records.find((r) => r.kind === 'window' && r.rule === 'tb')!;
  const wrongRule: StateRecord = { kind: 'rule', name: 'tb', spec: { limit: 5, windowMs: 1000 } };
  t.throws(
    () => createLimiter().restore([window, wrongRule, ...records.filter((r) => r.kind === 'meta')]),
    {
      code: 'storage_corrupt',
    },
  );
  const orphan: StateRecord = {
    kind: 'override',
    rule: 'missing',
    key: 'k',
    spec: { limit: 1, windowMs: 1 },
  };
  t.throws(() => createLimiter().restore([...records, orphan]), { code: 'storage_corrupt' });
});

t.test('incremental snapshots add up to the full one; restored engines decide alike', async (t) => {
  const limiter = busy();
  const writer = new MemoryWriter();
  t.throws(() => limiter.writeSnapshot(writer, 1, 'incremental'), { code: 'internal' });
  limiter.writeSnapshot(writer, 1, 'full');
  let ts = T0 + 3000;
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 500; i++) {
      ts += 3;
      const rules = round > 2 ? ['default', 'tb'] : ['default', 'tb', 'sc'];
      limiter.allow(
        ts,
        `key-${(i * 7 + round) % 900}`,
        rules[i % rules.length],
        1,
        undefined,
        undefined,
        i % 11 === 0 ? `r${round}-${i}` : undefined,
      );
    }
    if (round === 2) limiter.deleteRule(ts, 'sc');
    if (round === 3)
      limiter.setRule(ts, 'tb', { limit: 2, windowMs: 700, algorithm: 'sliding-log' });
    if (round === 4) limiter.deleteOverride(ts, 'default', 'vip');
    limiter.writeSnapshot(writer, 2 + round, 'incremental');
    const restored = createLimiter();
    restored.restore(shuffled([...writer.records.values()], round));
    t.same(json(restored.records()), json(limiter.records()), `round ${round}: same state`);
    for (let i = 0; i < 200; i++) {
      const key = `key-${i % 900}`;
      t.same(
        restored.evaluate({ type: 'allow', ts: ts + i * 5, key }),
        limiter.evaluate({ type: 'allow', ts: ts + i * 5, key }),
      );
    }
  }
});

t.test('same commands, same state (determinism)', async (t) => {
  t.same(json(busy().records()), json(busy().records()));
});

t.test('property: keys evicted and slots reused within one interval snapshot right', async () => {
  // Short windows and few keys: the sweep evicts dirty keys and their slots go to other keys (or
  // back to the same key) before the next incremental snapshot, which must pair each record with
  // its own key.
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          dt: fc.integer({ min: 0, max: 40 }),
          key: fc.integer({ min: 0, max: 12 }),
          snapshot: fc.boolean(),
        }),
        { maxLength: 300 },
      ),
      (steps) => {
        const limiter = createLimiter();
        const writer = new MemoryWriter();
        limiter.writeSnapshot(writer, 1, 'full');
        let ts = T0;
        let index = 1;
        for (const s of steps) {
          ts += s.dt;
          limiter.allow(ts, `k${s.key}`, 'default', 1, 3, 20 + s.key);
          if (s.snapshot && s.dt % 4 === 0) limiter.writeSnapshot(writer, ++index, 'incremental');
        }
        limiter.writeSnapshot(writer, ++index, 'incremental');
        // Restored as of lastTs (a record of a key expired but not yet swept reads as nothing).
        const restored = createLimiter();
        restored.restore(writer.records.values());
        return JSON.stringify(json(restored.records())) === JSON.stringify(json(limiter.records()));
      },
    ),
    { numRuns: 300 },
  );
});
