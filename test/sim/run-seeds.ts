/**
 * Runs a range of seeds and sums what they did; shared by the campaign script and the tap
 * tests. A safety violation is collected (with its repro line), never swallowed.
 */
import type { FaultKind } from './faults.js';
import { defaultOptions, type SimOptions } from './sim-options.js';
import { runSeed } from './simulation.js';
import { addStats, emptyStats, type SimStats } from './stats.js';
import { SimViolation } from './violation.js';

export interface SeedRange {
  from: number;
  count: number;
  bugs?: readonly string[];
  nodes?: 3 | 5;
  /** Stop after this many failing seeds that `counts` selects (default 1). */
  maxFailures?: number;
  /** Which failures count toward maxFailures (default: all). */
  counts?: (v: SimViolation) => boolean;
  /** Called after each passing seed (ledger bookkeeping). */
  onPass?: (seed: number, stats: SimStats, faults: FaultKind[], nodes: number) => void;
  /** Called after each failing seed. */
  onFail?: (violation: SimViolation) => void;
  /** Overrides for every seed's options (tests shrink nothing here; see sim-options.ts). */
  tune?: Partial<SimOptions>;
}

export interface RangeResult {
  stats: SimStats;
  failures: SimViolation[];
  /** Seeds in which each fault kind occurred. */
  faultMix: Record<string, number>;
  seedsRun: number;
}

export function runSeeds(range: SeedRange): RangeResult {
  const stats = emptyStats();
  const failures: SimViolation[] = [];
  const faultMix: Record<string, number> = {};
  const maxFailures = range.maxFailures ?? 1;
  const counts = range.counts ?? (() => true);
  let seedsRun = 0;
  for (let seed = range.from; seed < range.from + range.count; seed++) {
    const opts: SimOptions = {
      ...defaultOptions(seed),
      ...range.tune,
      seed,
      bugs: range.bugs ?? [],
      nodes: range.nodes,
    };
    seedsRun++;
    try {
      const result = runSeed(opts);
      addStats(stats, result.stats);
      for (const f of result.faultsSeen) faultMix[f] = (faultMix[f] ?? 0) + 1;
      range.onPass?.(seed, result.stats, result.faultsSeen, result.nodes);
    } catch (err) {
      if (!(err instanceof SimViolation)) throw err;
      failures.push(err);
      range.onFail?.(err);
      if (failures.filter(counts).length >= maxFailures) break;
    }
  }
  return { stats, failures, faultMix, seedsRun };
}

/** Safety violations (everything except the liveness check after the final heal). */
export function isSafety(v: SimViolation): boolean {
  return v.rule !== 'Liveness';
}
