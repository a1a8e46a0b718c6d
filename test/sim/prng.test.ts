import t from 'tap';
import { Prng } from './prng.js';

t.test('the same seed gives the same stream; another seed another', async (t) => {
  const a = new Prng(7);
  const b = new Prng(7);
  const c = new Prng(8);
  const sa = Array.from({ length: 50 }, () => a.nextU32());
  const sb = Array.from({ length: 50 }, () => b.nextU32());
  const sc = Array.from({ length: 50 }, () => c.nextU32());
  t.same(sa, sb);
  t.not(JSON.stringify(sa), JSON.stringify(sc));
});

t.test('int(n) stays in range and covers it roughly uniformly', async (t) => {
  const rng = new Prng(1);
  const counts = new Array<number>(10).fill(0);
  let outOfRange = 0;
  for (let i = 0; i < 100_000; i++) {
    const v = rng.int(10);
    if (!(v >= 0 && v < 10 && Number.isInteger(v))) outOfRange++;
    counts[v] = (counts[v] ?? 0) + 1;
  }
  t.equal(outOfRange, 0, 'every value in [0, 10)');
  for (const n of counts) t.ok(n > 9_000 && n < 11_000, `bucket ${n} near 10,000`);
  t.throws(() => rng.int(0));
});

t.test('shuffle is a permutation; fork gives an independent stream', async (t) => {
  const rng = new Prng(3);
  const items = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
  t.same([...items].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  const child = rng.fork();
  t.not(child.nextU32(), rng.nextU32());
});
