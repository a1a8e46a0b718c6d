import t from 'tap';
import { buildHistory } from '../gen/history-builder.js';
import { pairCalls } from '../history/pair-calls.js';
import type { HistoryLine } from '../history/types.js';
import { checkAvailability } from './availability.js';
import { checkAdmission } from './over-admission.js';

t.test('availability per fault phase and the longest gap after each fault', async (t) => {
  const lines: HistoryLine[] = buildHistory([
    { p: 0, inv: 0, done: 100, allowed: true, remaining: 9, ts: 1, index: 1, limit: 10 },
    { p: 1, inv: 1000, done: 2000, info: true, limit: 10 },
    { p: 2, inv: 1500, done: 4000, info: true, limit: 10 },
    { p: 3, inv: 5000, done: 5100, allowed: true, remaining: 8, ts: 6, index: 2, limit: 10 },
  ]);
  lines.push({ kind: 'nemesis', phase: 'start', name: 'partition', timeUs: 500 });
  lines.push({ kind: 'nemesis', phase: 'stop', name: 'partition', timeUs: 4500 });
  lines.sort((a, b) => a.timeUs - b.timeUs);
  const result = checkAvailability(lines, pairCalls(lines));
  t.same(
    result.phases.map((p) => [p.label, p.ops, p.ok]),
    [
      ['healthy', 1, 1],
      ['partition', 2, 0],
      ['healthy', 1, 1],
    ],
  );
  t.equal(result.faults.length, 1);
  t.equal(result.faults[0]!.longestGapUs, 5100 - 500, 'no ok from the fault start until 5100');
  t.equal(result.okFraction, 0.5);
});

t.test('real-time over-admission respects the skew bound', async (t) => {
  // Three grants of limit 2 decided within 30 ms of real time, window 100 ms, yet the server
  // stamped them 150 ms apart (a clock jumping forward).
  const lines = buildHistory([
    { p: 0, inv: 0, done: 10_000, allowed: true, remaining: 1, ts: 0, index: 1 },
    { p: 1, inv: 10_000, done: 20_000, allowed: true, remaining: 0, ts: 1, index: 2 },
    { p: 2, inv: 20_000, done: 30_000, allowed: true, remaining: 1, ts: 150, index: 3 },
  ]);
  const calls = pairCalls(lines);
  const strict = checkAdmission(calls, { skewBoundMs: 0 });
  t.equal(strict.result, 'fail');
  t.equal(strict.violations[0]!.kind, 'over-admission-real-time');
  t.equal(checkAdmission(calls, { skewBoundMs: 40 }).result, 'ok', 'a 40 ms skew bound excuses it');
});
