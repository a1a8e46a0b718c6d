// The key index against a Map: inline (short Latin-1) and side-array (long or non-Latin-1) keys,
// keys differing only in their last char or their length, removal (backward shift) while the
// table is dense, slot reuse, growth (row chunks each as big as all before), and iteration in slot
// order.
import t from 'tap';
import { Rng } from '../../jepsen-lite/gen/rng.js';
import { KeyIndex } from '../../src/limiter/key-index.js';

const SAMPLE_KEYS = [
  'a',
  'ab',
  'abc',
  'abcd',
  'abcde',
  'user:1',
  'user:10',
  'user:1\u0000',
  '\u0000',
  '\u00ff\u00fe',
  'x'.repeat(24),
  'x'.repeat(25),
  `${'x'.repeat(23)}y`,
  'ключ',
  'ключ-2',
  '😀',
  '😀😀',
  'é'.repeat(30),
  'k'.repeat(512),
];

function keyFor(random: () => number, i: number): string {
  const pick = random();
  if (pick < 0.6) return `user:${Math.floor(random() * 3000)}`;
  if (pick < 0.75) return `${'long-key-'.repeat(3)}${Math.floor(random() * 300)}`;
  if (pick < 0.85) return `ключ:${Math.floor(random() * 300)}`;
  return SAMPLE_KEYS[i % SAMPLE_KEYS.length]!;
}

/** Adds keys through find + insert as the stores do, with a free list like SlotTable's. */
class Harness {
  /** A first row chunk of 4 slots: growth crosses chunk boundaries at 4, 8, 16, ... slots. */
  readonly index = new KeyIndex(2, 4);
  readonly model = new Map<string, number>();
  private capacity = 0;
  private next = 0;
  private readonly free: number[] = [];

  add(key: string): number {
    const found = this.index.find(key);
    if (found >= 0) return found;
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.next === this.capacity) this.capacity = this.index.grow();
      slot = this.next++;
    }
    this.index.insert(key, slot);
    this.model.set(key, slot);
    return slot;
  }

  remove(key: string): void {
    const slot = this.model.get(key);
    if (slot === undefined) return;
    this.index.remove(slot);
    this.model.delete(key);
    this.free.push(slot);
  }
}

t.test('find, insert and remove agree with a Map over random operations', async (t) => {
  for (const seed of [1, 2, 3]) {
    const seeded = new Rng(seed); // a failure replays from its seed
    const random = () => seeded.next();
    const h = new Harness();
    for (let i = 0; i < 40_000; i++) {
      const key = keyFor(random, i);
      if (random() < 0.35) h.remove(key);
      else if (h.add(key) !== h.model.get(key)) t.fail(`add ${JSON.stringify(key)}`);
      if (i % 4000 === 0 || i === 39_999) {
        t.equal(h.index.size, h.model.size, 'size');
        for (const [k, slot] of h.model) {
          if (h.index.find(k) !== slot) t.fail(`lost ${JSON.stringify(k)}`);
          if (h.index.keyOf(slot) !== k) t.fail(`keyOf ${slot} !== ${JSON.stringify(k)}`);
        }
        for (const k of SAMPLE_KEYS) t.equal(h.index.find(k), h.model.get(k) ?? -1, k);
        t.equal(h.index.find('never added'), -1);
        const listed = [...h.index.entries()];
        t.same(
          listed,
          [...h.model].sort((a, b) => a[1] - b[1]),
          'entries are the live [key, slot] pairs in slot order',
        );
      }
    }
  }
});

t.test('a dense table survives removing every other key, then refilling', async (t) => {
  const h = new Harness();
  const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
  for (const key of keys) h.add(key);
  for (let i = 0; i < keys.length; i += 2) h.remove(keys[i]!);
  const wrong = keys.filter((key, i) => h.index.find(key) >= 0 !== (i % 2 === 1));
  t.same(wrong, [], 'exactly the odd keys are left');
  for (const key of keys) h.add(key);
  t.equal(h.index.size, keys.length);
  t.same(
    keys.filter((key) => h.index.find(key) !== h.model.get(key)),
    [],
    'every key at its slot',
  );
  t.equal(h.index.end, keys.length, 'freed slots were reused');
});

t.test('insert needs the failed find of the same key; a live slot cannot be reused', async (t) => {
  const h = new Harness();
  h.add('a');
  t.throws(() => h.index.insert('b', 5), /without a failed find/);
  h.index.find('b');
  t.throws(() => h.index.insert('b', h.model.get('a')!), /slot in use/);
  t.throws(() => h.index.remove(3), /free slot/);
});

t.test(
  'row chunks: each as big as all before, rows never move, slots map to their chunk',
  async (t) => {
    const index = new KeyIndex(1, 4);
    const sizes: number[] = [];
    let capacity = 0;
    while (capacity < 1024) {
      capacity = index.grow();
      sizes.push(index.rowChunks.at(-1)!.length / index.stride);
    }
    t.same(sizes, [4, 4, 8, 16, 32, 64, 128, 256, 512], 'chunk slot counts');
    t.equal(capacity, 1024);
    // Every slot's row lies in its own chunk, rows of consecutive slots are consecutive.
    const seen = new Set<string>();
    let bad = 0;
    for (let slot = 0; slot < capacity; slot++) {
      const rows = index.rowsOf(slot);
      const at = index.rowAt(slot);
      const chunk = index.rowChunks.indexOf(rows);
      if (chunk < 0 || at < 0 || at + index.stride > rows.length || at % index.stride !== 0) bad++;
      seen.add(`${chunk}:${at}`);
    }
    t.equal(bad, 0, 'rows inside their chunk');
    t.equal(seen.size, capacity, 'no two slots share a row');
    t.throws(() => new KeyIndex(1, 3), /2\^n/);
  },
);
