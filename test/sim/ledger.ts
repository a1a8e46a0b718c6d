/**
 * The campaign ledger (.sim-ledger/ledger.json, gitignored): highest contiguous seed passed,
 * summed totals and fault mix, so long campaigns resume where they stopped.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { emptyStats, type SimStats } from './stats.js';

export interface Ledger {
  /** Seeds 0..contiguousPassed-1 have all passed (0 = none yet). */
  contiguousPassed: number;
  /** Where the next campaign resumes: one past the highest seed run. */
  nextSeed: number;
  passed: number;
  failed: number;
  totals: SimStats;
  /** Seeds in which each fault kind occurred. */
  faultMix: Record<string, number>;
  /** Seeds per cluster size. */
  clusterSizes: Record<string, number>;
  failures: { seed: number; rule: string; repro: string }[];
  updatedAt: string;
}

export const DEFAULT_LEDGER_PATH = '.sim-ledger/ledger.json';

export function loadLedger(path: string): Ledger {
  if (!existsSync(path)) {
    return {
      contiguousPassed: 0,
      nextSeed: 0,
      passed: 0,
      failed: 0,
      totals: emptyStats(),
      faultMix: {},
      clusterSizes: {},
      failures: [],
      updatedAt: '',
    };
  }
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Ledger;
  parsed.totals = { ...emptyStats(), ...parsed.totals };
  return parsed;
}

/** Failures kept in the ledger (the rest are only counted). */
export const LEDGER_FAILURES_MAX = 500;

export function recordSeed(ledger: Ledger, seed: number, passed: boolean): void {
  if (passed) ledger.passed++;
  else ledger.failed++;
  if (passed && seed === ledger.contiguousPassed) ledger.contiguousPassed = seed + 1;
  ledger.nextSeed = Math.max(ledger.nextSeed, seed + 1);
}

/** Written to a temporary file then renamed, so an interrupted campaign never leaves half a ledger. */
export function saveLedger(path: string, ledger: Ledger, stamp: string): void {
  mkdirSync(dirname(path), { recursive: true });
  ledger.updatedAt = stamp;
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(ledger, null, 2)}\n`);
  renameSync(tmp, path);
}
