import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type RunResult, runTest } from './run-test.js';

/**
 * The short end-to-end run for `npm test`, kept out of the test glob until the service exists.
 * To enable it once `dist/src/cli/main.js serve` works, create jepsen-lite/e2e-short.test.ts:
 *
 *   import t from 'tap';
 *   import { runShortE2E } from './runner/e2e-short.js';
 *   t.test('short jepsen-lite run finds no violation', async (t) => {
 *     const { report, summary } = await runShortE2E();
 *     t.equal(report.result, 'ok', summary);
 *     t.ok(report.counts.ok > 100, 'the cluster served requests');
 *   });
 *   t.test('a planted bug is caught', async (t) => {
 *     const { report, summary } = await runShortE2E({ testBugs: ['lease-without-quorum'], nemeses: ['partition', 'pause'] });
 *     t.not(report.result, 'ok', summary);
 *   });
 */
export const cliPath = resolve('dist/src/cli/main.js');

export function serviceAvailable(): boolean {
  if (!existsSync(cliPath)) return false;
  // The CLI must know `serve` (a build without the service still has the file).
  return readFileSync(cliPath, 'utf8').includes('serve');
}

export async function runShortE2E(
  overrides: {
    testBugs?: string[];
    nemeses?: ('kill' | 'pause' | 'partition' | 'clock' | 'membership' | 'transfer' | 'link')[];
  } = {},
): Promise<RunResult> {
  return runTest({
    cliPath,
    outDir: mkdtempSync(join(tmpdir(), 'jepsen-short-')),
    seed: 1,
    timeMs: 20_000,
    settleMs: 3000,
    nemeses: overrides.nemeses ?? ['kill', 'pause', 'partition', 'transfer'],
    nodes: 3,
    ...(overrides.testBugs ? { testBugs: overrides.testBugs } : {}),
    workload: { workers: 4, keys: 4, limit: 3, windowMs: 500, requestTimeoutMs: 1500 },
  });
}
