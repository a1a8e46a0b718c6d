/** Knobs of one simulated run; everything else is drawn from the seed. */
export interface SimOptions {
  seed: number;
  /** Minimum tick() calls across the cluster before the run winds down. */
  minTicks: number;
  /** Minimum proposals accepted by a leader before the run winds down. */
  minProposals: number;
  /** Core test-bug switches to turn on (config.testBugs). */
  bugs: readonly string[];
  /** Force the cluster size (else 3 or 5 from the seed). */
  nodes?: 3 | 5;
  /** Print every step. */
  verbose: boolean;
  log?: (line: string) => void;
}

export function defaultOptions(seed: number): SimOptions {
  return { seed, minTicks: 2000, minProposals: 200, bugs: [], verbose: false };
}

/** Hard bound on events per seed: a run that needs more is a livelock (a finding in itself). */
export const STEPS_MAX = 2_000_000;
/** After all faults heal, replication may not stand still for longer than this (simulated). */
export const LIVENESS_WINDOW_MS = 5_000;
/** ... and writes must commit again within this much simulated time. */
export const LIVENESS_MAX_MS = 60_000;
/** How often the heal phase samples replication progress. */
export const PROGRESS_CHECK_MS = 100;
