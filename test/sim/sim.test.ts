import t from 'tap';
import { ALL_FAULTS } from './faults.js';
import { isSafety, runSeeds } from './run-seeds.js';
import { defaultOptions } from './sim-options.js';
import { runSeed } from './simulation.js';
import { formatStats } from './stats.js';
import { SimViolation } from './violation.js';

const SEEDS = 500;

t.test(`${SEEDS} seeds of the real core under every fault keep Raft safe`, async (t) => {
  const result = runSeeds({ from: 0, count: SEEDS, maxFailures: SEEDS });
  t.comment(formatStats(result.stats));
  t.equal(result.seedsRun, SEEDS, 'every seed ran');
  const safety = result.failures.filter(isSafety);
  t.same(
    safety.map((v) => v.message),
    [],
    'no safety violation (Election Safety, Log Matching, Leader Completeness, State Machine Safety, reads)',
  );
  const liveness = result.failures.filter((v) => !isSafety(v));
  t.same(
    liveness.map((v) => v.message),
    [],
    'after all faults heal, writes commit again in every seed',
  );
  // The workload really exercised what the checks are about.
  const passed = SEEDS - result.failures.length;
  t.ok(result.stats.ticks >= passed * 2000, 'at least 2,000 ticks per seed');
  t.ok(result.stats.proposals >= passed * 200, 'at least 200 proposals per seed');
  t.ok(
    result.stats.leaseReads > 0 && result.stats.readIndexReads > 0,
    'both kinds of read were checked',
  );
  for (const kind of ALL_FAULTS) {
    t.equal(result.faultMix[kind], passed, `every passing seed saw fault ${kind}`);
  }
  // Membership changes need spare nodes: only the seeds that start 3 of 5 nodes as voters.
  t.ok((result.faultMix.membership ?? 0) > 0, 'some seeds changed membership');
  t.ok(
    result.stats.confChanges > 0 && result.stats.transfers > 0,
    'conf changes and transfers ran',
  );
  t.ok(result.stats.snapshotsInstalled > 0, 'followers installed snapshots');
});

for (const bug of ['commit-old-term-by-count', 'lease-without-quorum', 'skip-leader-noop']) {
  t.test(`the simulator catches the core's '${bug}' switch within ${SEEDS} seeds`, async (t) => {
    const result = runSeeds({
      from: 0,
      count: SEEDS,
      bugs: [bug],
      maxFailures: 1,
      counts: isSafety,
    });
    const caught = result.failures.find(isSafety);
    t.ok(caught, `a safety violation within ${result.seedsRun} seeds`);
    if (caught) {
      t.comment(caught.message);
      t.match(
        caught.repro,
        `--seed ${caught.seed} --bugs ${bug}`,
        'the repro line names seed and switch',
      );
    }
  });
}

t.test('a seed replays identically', async (t) => {
  const a = runSeed(defaultOptions(42));
  const b = runSeed(defaultOptions(42));
  t.same(a, b);
  const c = runSeed(defaultOptions(43));
  t.not(JSON.stringify(a.stats), JSON.stringify(c.stats), 'another seed runs differently');
});

t.test('a violation carries seed, step and a repro command', async (t) => {
  const v = new SimViolation(
    'Election Safety',
    'two leaders',
    7,
    99,
    'npx tsx test/sim/campaign.ts --seed 7 --verbose',
  );
  t.match(v.message, /seed 7 step 99/);
  t.match(v.message, /reproduce: npx tsx test\/sim\/campaign\.ts --seed 7 --verbose/);
});

// Regression: with applyDurableFirst a node's state machine can be ahead of the commit index
// on its disk; these seeds (apply-first, durable state machine, restarts) failed 'applied <=
// committed' before a restart raised the recovered commit index to the applied index.
t.test('apply-first seeds that caught the applied-ahead-of-commit restart bug pass', async (t) => {
  for (const seed of [0, 1, 2]) {
    t.doesNotThrow(() => runSeed(defaultOptions(seed)), `seed ${seed}`);
  }
});
