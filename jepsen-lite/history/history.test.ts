import t from 'tap';
import { buildHistory } from '../gen/history-builder.js';
import { formatHistory, parseHistory } from './jsonl.js';
import { groupByKey, pairCalls } from './pair-calls.js';
import { Recorder } from './recorder.js';
import type { HistoryLine } from './types.js';

t.test('calls pair invokes with completions; open invokes are indeterminate', async (t) => {
  const lines = buildHistory([
    { p: 0, inv: 0, done: 10, allowed: true, remaining: 1, ts: 5, index: 1 },
    { p: 1, inv: 2, done: 12, fail: true },
    { p: 2, inv: 3, done: 20, info: true },
    { p: 3, inv: 4 },
  ]);
  const calls = pairCalls(lines);
  t.same(
    calls.map((c) => c.status),
    ['ok', 'fail', 'info', 'info'],
  );
  t.equal(calls[0]!.completeUs, 10);
  t.equal(calls[1]!.completeUs, 12, 'a failure has a known end');
  t.equal(calls[2]!.completeUs, Number.POSITIVE_INFINITY, 'info may take effect any time later');
  t.equal(calls[3]!.completeUs, Number.POSITIVE_INFINITY);
  t.equal(calls[0]!.result?.ts, 5);
});

t.test('malformed histories are refused', async (t) => {
  const op = { rule: 'r', key: 'k', limit: 1, windowMs: 1, cost: 1 };
  const twice: HistoryLine[] = [
    { kind: 'op', process: 0, type: 'invoke', op, timeUs: 0 },
    { kind: 'op', process: 0, type: 'invoke', op, timeUs: 1 },
  ];
  t.throws(() => pairCalls(twice), /invoked twice/);
  t.throws(
    () => pairCalls([{ kind: 'op', process: 0, type: 'ok', op, timeUs: 0 }]),
    /without invoke/,
  );
  t.throws(() => parseHistory('{"kind":"op"\n'), /line 1/);
});

t.test('JSONL round-trips and partitions by (rule, key)', async (t) => {
  const lines = buildHistory([
    { p: 0, inv: 0, done: 10, key: 'a', allowed: true, remaining: 1, ts: 5, index: 1 },
    { p: 1, inv: 1, done: 11, key: 'b', allowed: true, remaining: 1, ts: 5, index: 2 },
    {
      p: 2,
      inv: 2,
      done: 12,
      key: 'a',
      rule: 'other',
      allowed: true,
      remaining: 1,
      ts: 5,
      index: 3,
    },
  ]);
  const text = formatHistory(lines);
  t.equal(text.split('\n').length, 7, 'one line each plus the final newline');
  t.same(parseHistory(text), lines);
  t.equal(groupByKey(pairCalls(lines)).size, 3);
});

t.test('the recorder stamps monotonic times and gives fresh processes', async (t) => {
  let now = 0;
  const seen: HistoryLine[] = [];
  const recorder = new Recorder(
    () => now++,
    (line) => seen.push(line),
  );
  const p = recorder.newProcess();
  const q = recorder.newProcess();
  t.not(p, q);
  const op = { rule: 'r', key: 'k', limit: 1, windowMs: 1, cost: 1 };
  recorder.invoke(p, op, 'n1');
  recorder.complete(p, 'ok', op, {
    result: { allowed: true, remaining: 0, index: 1, ts: 1 },
    node: 'n1',
  });
  t.equal(seen.length, 2);
  t.ok(seen[1]!.timeUs > seen[0]!.timeUs);
  t.equal(pairCalls(recorder.lines)[0]!.node, 'n1');
});
