import t from 'tap';
import { diskStallReport, quorumStalls } from '../../bench/raft-disk-stalls.js';

t.test('quorum stalls are the times a quorum of nodes overlap', async (t) => {
  const a: [number, number][] = [
    [0, 10],
    [20, 30],
  ];
  const b: [number, number][] = [
    [5, 25],
    [40, 50],
  ];
  const c: [number, number][] = [[8, 22]];
  // b and c cover [10, 20] between them while a is idle: two at a time from 5 to 25.
  t.same(quorumStalls([a, b, c], 2), [[5, 25]]);
  t.same(quorumStalls([a, b, c], 3), [
    [8, 10],
    [20, 22],
  ]);
  t.same(quorumStalls([[[0, 5]], [[5, 9]]], 2), [], 'touching intervals do not overlap');
  t.throws(() => quorumStalls([[[3, 1]]], 1));
});

t.test(
  'entries due inside a window wait for its end; the rest make the diagnostic p99',
  async (t) => {
    // Entries every 1 ms from 0; a window [10, 20]: entries 10..17 wait >= 3 ms, 18 and 19 less.
    const latency = Array.from({ length: 100 }, (_, i) => (i >= 10 && i < 20 ? 20_000 : 500 + i));
    latency[50] = -1;
    const r = diskStallReport([[10, 20]], 0, (i) => i, latency, 3);
    t.equal(r.windows, 1);
    t.equal(r.totalMs, 10);
    t.equal(r.delayed, 8);
    t.equal(r.committed, 99);
    // The others: 89 latencies of 500 + i plus two 20 ms ones (18, 19), so the p99 is 20 ms.
    t.equal(r.p99OthersUs, 20_000);
    const none = diskStallReport([], 0, (i) => i, latency.slice(0, 10), 3);
    t.equal(none.delayed, 0);
    t.equal(none.p99OthersUs, 509);
  },
);
