// The clearing ring (the core log's entries, a leader's pending proposals): array semantics through wrap-around and growth, and entries it
// gives up (compaction, truncation) are not held anywhere.
import t from 'tap';
import { ClearingRing } from '../../src/raft/core/clearing-ring.js';
import { type Entry, EntryType } from '../../src/raft/types.js';
import { collectedCount } from '../gc-collected.js';

const entry = (index: number): Entry => ({
  index,
  term: 1,
  type: EntryType.Normal,
  data: new Uint8Array(1),
});
const indices = (es: Entry[]) => es.map((e) => e.index);

t.test('behaves as an array through wrap-around, growth and truncation', async (t) => {
  const ring = new ClearingRing<Entry>(2);
  const model: Entry[] = [];
  let next = 1;
  // A fixed pseudo-random walk over the four operations, checked against a plain array.
  let x = 12345;
  for (let step = 0; step < 2000; step++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const op = x % 10;
    if (op < 5) {
      const e = entry(next++);
      ring.push(e);
      model.push(e);
    } else if (op < 7 && model.length > 0) {
      const n = x % (model.length + 1);
      ring.dropFront(n);
      model.splice(0, n);
    } else if (op < 8 && model.length > 0) {
      const n = x % (model.length + 1);
      ring.truncate(n);
      model.length = n;
    } else {
      const lo = x % (model.length + 1);
      t.same(indices(ring.slice(lo)), indices(model.slice(lo)));
    }
    if (ring.length !== model.length || ring.at(0) !== model[0]) {
      t.fail(`step ${step}: ring and array differ`);
      return;
    }
  }
  t.same(indices(ring.slice(0)), indices(model));
  t.equal(ring.at(-1), undefined);
  t.equal(ring.at(ring.length), undefined);
  t.throws(() => ring.truncate(ring.length + 1), /truncate/);
  t.throws(() => ring.dropFront(ring.length + 1), /drop/);
  ring.clear();
  t.equal(ring.length, 0);
});

t.test('entries dropped from either end can be collected', async (t) => {
  const ring = new ClearingRing<Entry>(4);
  const refs: WeakRef<object>[] = [];
  // Filled in its own frame, so no local of this test still points at the last entry.
  ((): void => {
    for (let i = 1; i <= 3000; i++) {
      const e = entry(i);
      refs.push(new WeakRef(e));
      ring.push(e);
    }
  })();
  ring.dropFront(2000);
  ring.truncate(900);
  const collected = await collectedCount(refs);
  // Exactly the dropped ones can go (the ring holds the rest); a few may still be held by a
  // register or the GC.
  t.ok(
    collected >= 2090 && collected <= 2100,
    `${collected}: the 2,000 compacted and 100 truncated entries are gone`,
  );
  t.equal(ring.length, 900);
});
