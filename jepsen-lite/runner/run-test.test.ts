import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { parseHistory } from '../history/jsonl.js';
import { runTest } from './run-test.js';

// The harness end to end against a stand-in node (runner/fake-node.ts), not the product.
const fakeNode = resolve('jepsen-lite/runner/fake-node.ts');

t.test('one stand-in node under pauses and clock faults: ok', async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'jepsen-fake-'));
  t.teardown(() => rmSync(outDir, { recursive: true, force: true }));
  const result = await runTest({
    cliPath: fakeNode,
    nodeArgs: ['--import', 'tsx'],
    outDir,
    seed: 3,
    timeMs: 5000,
    settleMs: 500,
    scheduleGapMs: 800,
    scheduleFaultMs: 1200,
    nemeses: ['pause', 'clock'],
    nodes: 1,
    workload: { workers: 3, keys: 2, limit: 3, windowMs: 300, requestTimeoutMs: 500 },
  });
  t.equal(result.report.result, 'ok', result.summary);
  t.ok(result.report.counts.ok > 20, 'requests were served');
  t.ok(result.report.availability.faults.length >= 1, 'faults were applied');
  const lines = parseHistory(readFileSync(result.historyPath, 'utf8'));
  t.ok(
    lines.some((l) => l.kind === 'op'),
    'history written as JSONL',
  );
  t.match(readFileSync(result.reportPath, 'utf8'), /jepsen-lite: OK/);
});

t.test(
  'three stand-in nodes with separate state: the proxies carry their traffic and the checkers object',
  async (t) => {
    const outDir = mkdtempSync(join(tmpdir(), 'jepsen-fake-'));
    t.teardown(() => rmSync(outDir, { recursive: true, force: true }));
    const result = await runTest({
      cliPath: fakeNode,
      nodeArgs: ['--import', 'tsx'],
      outDir,
      seed: 4,
      timeMs: 3000,
      settleMs: 0,
      nemeses: [],
      nodes: 3,
      workload: { workers: 4, keys: 1, limit: 2, windowMs: 2000, requestTimeoutMs: 500 },
    });
    t.equal(result.report.result, 'fail', result.summary);
    t.equal(result.report.admission.result, 'fail', 'over-admission across nodes');
  },
);
