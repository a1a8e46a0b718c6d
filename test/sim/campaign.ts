/**
 * `npm run sim -- --seeds N [--from S] [--bugs a,b] [--nodes 3|5] [--max-failures K]`: a long,
 * resumable campaign that records progress in the ledger (.sim-ledger/ledger.json);
 * `--seed S --verbose` replays one seed step by step. Wall-clock time here only reports speed;
 * it never reaches the simulation.
 */
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_LEDGER_PATH,
  LEDGER_FAILURES_MAX,
  type Ledger,
  loadLedger,
  recordSeed,
  saveLedger,
} from './ledger.js';
import { isSafety, type RangeResult, runSeeds, type SeedRange } from './run-seeds.js';
import { defaultOptions } from './sim-options.js';
import { runSeed } from './simulation.js';
import { addStats, emptyStats, formatStats } from './stats.js';
import { SimViolation } from './violation.js';

interface Args {
  seeds: number;
  from: number | null;
  seed: number | null;
  bugs: string[];
  nodes: 3 | 5 | undefined;
  verbose: boolean;
  ledger: string;
  maxFailures: number;
}

const USAGE =
  'usage: campaign.ts [--seeds N] [--from S] [--seed S --verbose] [--bugs a,b] [--nodes 3|5] [--max-failures K] [--ledger PATH]';

function parseArgs(argv: string[]): Args {
  const args: Args = {
    seeds: 100,
    from: null,
    seed: null,
    bugs: [],
    nodes: undefined,
    verbose: false,
    ledger: DEFAULT_LEDGER_PATH,
    maxFailures: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--verbose') {
      args.verbose = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    if (flag === '--seeds') args.seeds = toInt(flag, value);
    else if (flag === '--from') args.from = toInt(flag, value);
    else if (flag === '--seed') args.seed = toInt(flag, value);
    else if (flag === '--max-failures') args.maxFailures = Math.max(1, toInt(flag, value));
    else if (flag === '--bugs') args.bugs = value.split(',').filter((b) => b !== '');
    else if (flag === '--nodes') args.nodes = toInt(flag, value) === 5 ? 5 : 3;
    else if (flag === '--ledger') args.ledger = value;
    else throw new Error(`unknown argument ${flag}\n${USAGE}`);
  }
  return args;
}

function toInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer`);
  return n;
}

function replayOne(args: Args, seed: number): number {
  const opts = {
    ...defaultOptions(seed),
    bugs: args.bugs,
    verbose: args.verbose,
    nodes: args.nodes,
  };
  try {
    const result = runSeed(opts);
    console.log(
      `seed ${seed} passed (${result.nodes} nodes, faults: ${result.faultsSeen.join(' ')})`,
    );
    console.log(formatStats(result.stats));
    return 0;
  } catch (err) {
    if (!(err instanceof SimViolation)) throw err;
    console.error(err.message);
    return 1;
  }
}

function recordPass(ledger: Ledger, seed: number, nodes: number): void {
  const size = String(nodes);
  ledger.clusterSizes[size] = (ledger.clusterSizes[size] ?? 0) + 1;
  recordSeed(ledger, seed, true);
}

function recordFail(ledger: Ledger, v: SimViolation): void {
  recordSeed(ledger, v.seed, false);
  if (ledger.failures.length < LEDGER_FAILURES_MAX) {
    ledger.failures.push({ seed: v.seed, rule: v.rule, repro: v.repro });
  }
}

async function campaign(args: Args): Promise<number> {
  // Bug-switch or fixed-size runs are experiments: they neither read nor advance the ledger.
  const useLedger = args.bugs.length === 0 && args.nodes === undefined;
  const ledger = loadLedger(args.ledger);
  const from = args.from ?? (useLedger ? ledger.nextSeed : 0);
  const started = performance.now();
  let lastSave = started;
  const save = (force: boolean) => {
    const now = performance.now();
    if (!useLedger || (!force && now - lastSave < 5000)) return;
    saveLedger(args.ledger, ledger, new Date().toISOString());
    lastSave = now;
  };
  const result = await runInChunks(args, from, {
    onPass: (seed, stats, faults, nodes) => {
      if (!useLedger) return;
      addStats(ledger.totals, stats);
      for (const f of faults) ledger.faultMix[f] = (ledger.faultMix[f] ?? 0) + 1;
      recordPass(ledger, seed, nodes);
      save(false);
    },
    onFail: (v) => {
      console.error(v.message);
      if (useLedger) recordFail(ledger, v);
      save(false);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  save(true);
  console.log(formatStats(result.stats));
  console.log(
    `this run: ${result.seedsRun} seeds from ${from} in ${seconds.toFixed(1)} s (${(result.seedsRun / seconds).toFixed(1)} seeds/s), ${result.failures.length} failing`,
  );
  console.log(`fault mix (seeds with each): ${JSON.stringify(result.faultMix)}`);
  if (useLedger) {
    const rules: Record<string, number> = {};
    for (const f of ledger.failures) rules[f.rule] = (rules[f.rule] ?? 0) + 1;
    console.log(
      `ledger ${args.ledger}: seeds 0..${ledger.nextSeed - 1} run, ${ledger.passed} passed, ${ledger.failed} failed ${JSON.stringify(rules)}, ${ledger.contiguousPassed} contiguous from 0`,
    );
    console.log(`ledger fault mix: ${JSON.stringify(ledger.faultMix)}`);
  }
  return result.failures.length > 0 ? 1 : 0;
}

/** Seeds per synchronous chunk; between chunks SIGINT/SIGTERM can stop the run cleanly. */
const CHUNK_SEEDS = 20;
let stopRequested = false;

async function runInChunks(
  args: Args,
  from: number,
  hooks: Pick<SeedRange, 'onPass' | 'onFail'>,
): Promise<RangeResult> {
  const total: RangeResult = { stats: emptyStats(), failures: [], faultMix: {}, seedsRun: 0 };
  const end = from + args.seeds;
  for (let start = from; start < end && !stopRequested; start += CHUNK_SEEDS) {
    const safetySoFar = total.failures.filter(isSafety).length;
    const chunk = runSeeds({
      from: start,
      count: Math.min(CHUNK_SEEDS, end - start),
      bugs: args.bugs,
      nodes: args.nodes,
      maxFailures: args.maxFailures - safetySoFar,
      // A liveness failure is recorded but does not stop the campaign; safety failures do.
      counts: isSafety,
      ...hooks,
    });
    addStats(total.stats, chunk.stats);
    total.failures.push(...chunk.failures);
    total.seedsRun += chunk.seedsRun;
    for (const [k, v] of Object.entries(chunk.faultMix))
      total.faultMix[k] = (total.faultMix[k] ?? 0) + v;
    if (total.failures.filter(isSafety).length >= args.maxFailures) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return total;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopRequested = true;
  });
}

const args = parseArgs(process.argv.slice(2));
process.exitCode = args.seed !== null ? replayOne(args, args.seed) : await campaign(args);
