/**
 * Runs each planted bug (serve --test-bugs) over seeds with the nemeses that make it
 * observable, and prints per bug how many seeds found a violation (npm run jepsen:bugs).
 *   npm run jepsen:bugs -- [--bugs a,b] [--seeds 1-5] [--time 30] [--out jepsen-out/bugs]
 * Exit code 0 when every bug was found in at least 3 of its seeds.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { WorkloadOptions } from './runner/client-workers.js';
import { runTest } from './runner/run-test.js';
import type { NemesisKind } from './runner/schedule.js';

interface BugPlan {
  nemeses: NemesisKind[];
  gapMs: number;
  faultMs: number;
  /** Overrides of the plans' common workload. */
  workload?: Partial<WorkloadOptions>;
}

/** Why each plan: the fault under which the broken rule changes what a client can see. */
export const bugPlans: Record<string, BugPlan> = {
  // Acknowledged entries are lost only if every copy is: kill -9 of all nodes at once.
  // Long gaps: a restart on a loaded 2-core machine takes seconds, and the loss shows only in
  // answers after it.
  'ack-before-fsync': { nemeses: ['kill-all'], gapMs: 9000, faultMs: 1500 },
  // A deposed or cut-off leader answering from its own state: pauses and partitions.
  // A leader woken from a pause while cut off believes it leads (its ticks have not run):
  // pause + isolate, so another leader commits meanwhile.
  'lease-denial-without-lease': { nemeses: ['pause-isolate'], gapMs: 3000, faultMs: 5000 },
  'lease-without-quorum': { nemeses: ['pause-isolate'], gapMs: 3000, faultMs: 5000 },
  // A new leader serving before an entry of its term commits: visible as a lease-served
  // denial (no requestId: those go through the log) read from the new leader's state while it
  // does not know that the old leader's last entries committed. Followers learn commits one
  // message later, so the old leader's links are slowed before it is killed; mostly
  // denials without requestId, so the first answers of the new leader come from its lease.
  'skip-leader-noop': {
    nemeses: ['delay-kill-leader'],
    gapMs: 4000,
    faultMs: 2500,
    workload: { requestIdRate: 0, workers: 8, keys: 2, limit: 3, windowMs: 10_000 },
  },
};

function parseSeeds(text: string): number[] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (m) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
  return text.split(',').map(Number);
}

const program = new Command('find-bugs')
  .option('--bugs <list>', 'bugs to hunt', Object.keys(bugPlans).join(','))
  .option('--seeds <a-b>', 'seeds per bug', '1-5')
  .option('--time <seconds>', 'workload duration per run', '30')
  .option('--out <dir>', 'output directory', 'jepsen-out/bugs')
  .option('--cli <path>', 'drl CLI', 'dist/src/cli/main.js')
  .action(async (opts: { bugs: string; seeds: string; time: string; out: string; cli: string }) => {
    let allFound = true;
    for (const bug of opts.bugs.split(',')) {
      const plan = bugPlans[bug];
      if (plan === undefined) throw new Error(`no plan for bug ${bug}`);
      const rows: string[] = [];
      let found = 0;
      for (const seed of parseSeeds(opts.seeds)) {
        const run = runTest({
          cliPath: resolve(opts.cli),
          outDir: resolve(opts.out, `${bug}-seed-${seed}-${Date.now()}`),
          seed,
          timeMs: Number(opts.time) * 1000,
          nemeses: plan.nemeses,
          nodes: 3,
          testBugs: [bug],
          scheduleGapMs: plan.gapMs,
          scheduleFaultMs: plan.faultMs,
          settleMs: 3000,
          workload: { workers: 6, keys: 4, limit: 3, windowMs: 1000, ...plan.workload },
        });
        // A harness error (e.g. no leader in time on a loaded machine) is a row, not an abort.
        const result = await run.catch((err: Error) => err);
        if (result instanceof Error) {
          rows.push(`  seed ${seed}: harness error: ${result.message}`);
          console.log(`${bug} seed ${seed}: harness error`);
          continue;
        }
        if (result.report.result === 'fail') found++;
        rows.push(`  seed ${seed}: ${result.summary}\n    report: ${result.reportPath}`);
        console.log(`${bug} seed ${seed}: ${result.report.result}`);
      }
      console.log(`${bug}: found in ${found}/${rows.length} seeds\n${rows.join('\n')}`);
      if (found < 3) allFound = false;
    }
    process.exitCode = allFound ? 0 : 1;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`find-bugs: ${(err as Error).message}\n`);
  process.exitCode = 3;
});
