import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type RunResult, runTest } from './run-test.js';
import type { NemesisKind } from './schedule.js';

/**
 * The short end-to-end run of `npm test` (jepsen-lite/e2e-short.test.ts): 3 real `drl serve`
 * processes behind the proxy mesh, 15 s of mixed faults, small enough for the checker to
 * always reach a verdict (an `unknown` fails the test: shrink the run, never the assertion).
 */
export const cliPath = resolve('dist/src/cli/main.js');

export interface ShortRunOverrides {
  testBugs?: string[];
  nemeses?: NemesisKind[];
  seed?: number;
  timeMs?: number;
  gapMs?: number;
  faultMs?: number;
  snapshotEvery?: number;
}

export async function runShortE2E(overrides: ShortRunOverrides = {}): Promise<RunResult> {
  const outDir = mkdtempSync(join(tmpdir(), 'jepsen-short-'));
  // The nodes' log lines, kept in the run's directory (left in place when the test fails).
  const lines: string[] = [];
  const logPath = join(outDir, 'nodes.log');
  try {
    return await runShort(overrides, outDir, (line) => {
      if (lines.length < LOG_LINES_MAX) lines.push(line);
    });
  } catch (err) {
    throw new Error(`${(err as Error).message} (node logs: ${logPath})`, { cause: err });
  } finally {
    writeFileSync(logPath, `${lines.join('\n')}\n`);
  }
}

const LOG_LINES_MAX = 200_000;

function runShort(
  overrides: ShortRunOverrides,
  outDir: string,
  log: (line: string) => void,
): Promise<RunResult> {
  return runTest({
    cliPath,
    outDir,
    log,
    seed: overrides.seed ?? 1,
    timeMs: overrides.timeMs ?? 15_000,
    settleMs: 2000,
    scheduleGapMs: overrides.gapMs ?? 2500,
    scheduleFaultMs: overrides.faultMs ?? 3000,
    nemeses: overrides.nemeses ?? ['kill', 'pause', 'partition', 'transfer'],
    nodes: 3,
    ...(overrides.testBugs ? { testBugs: overrides.testBugs } : {}),
    ...(overrides.snapshotEvery ? { snapshotEvery: overrides.snapshotEvery } : {}),
    workload: { workers: 4, keys: 4, limit: 3, windowMs: 500, requestTimeoutMs: 1500 },
  });
}
