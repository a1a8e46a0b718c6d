/**
 * jepsen-lite entry (npm run jepsen -- ...).
 *   run:   npm run jepsen -- --nemesis all --time 300 --seed 7 [--nodes 5] [--bugs skip-leader-noop]
 *   check: npm run jepsen -- check path/history.jsonl [--out dir]
 * Exit code: 0 ok, 1 violation, 2 unknown (checker budget), 3 harness error.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { checkHistory, summaryLine } from './checker/check-history.js';
import { readHistory } from './history/jsonl.js';
import { renderHtmlReport } from './report/html-report.js';
import { runTest } from './runner/run-test.js';
import { parseNemesisList } from './runner/schedule.js';

function exitCode(result: 'ok' | 'fail' | 'unknown'): number {
  return result === 'ok' ? 0 : result === 'fail' ? 1 : 2;
}

function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    return Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i);
  }
  return text.split(',').map(Number);
}

const program = new Command('jepsen-lite');
program
  .option(
    '--nemesis <list>',
    'all | none | comma list of kill,pause,partition,clock,membership,transfer,link (and kill-all)',
    'all',
  )
  .option('--time <seconds>', 'workload duration', '60')
  .option('--seed <n>', 'schedule and workload seed', '1')
  .option('--seeds <a-b>', 'run each seed in turn (a-b or a,b,c); exit 0 only if all are ok')
  .option('--nodes <n>', 'cluster size (3 or 5)', '3')
  .option('--workers <n>', 'concurrent clients', '8')
  .option('--keys <n>', 'distinct keys')
  .option('--limit <n>', 'inline limit per key')
  .option('--window-ms <n>', 'inline window per key')
  .option('--request-id-rate <r>', 'share of ops with a requestId (default 0.85)')
  .option('--gap-ms <n>', 'mean healthy gap between faults')
  .option('--fault-ms <n>', 'mean fault length')
  .option('--bugs <list>', 'pass --test-bugs to every node')
  .option(
    '--snapshot-every <n>',
    "pass --snapshot-every to every node (default 2000; drl's own is 100000)",
  )
  .option('--out <dir>', 'output directory', 'jepsen-out')
  .option('--cli <path>', 'drl CLI', 'dist/src/cli/main.js')
  .action(async (opts: Record<string, string | undefined>) => {
    const seeds = opts.seeds ? parseSeeds(opts.seeds) : [Number(opts.seed)];
    const num = (name: string): number | undefined =>
      opts[name] === undefined ? undefined : Number(opts[name]);
    const workload = {
      workers: Number(opts.workers),
      ...(num('keys') !== undefined ? { keys: num('keys')! } : {}),
      ...(num('limit') !== undefined ? { limit: num('limit')! } : {}),
      ...(num('windowMs') !== undefined ? { windowMs: num('windowMs')! } : {}),
      ...(num('requestIdRate') !== undefined ? { requestIdRate: num('requestIdRate')! } : {}),
    };
    const results: string[] = [];
    let worst = 0;
    for (const seed of seeds) {
      const outDir = resolve(opts.out!, `seed-${seed}-${Date.now()}`);
      const result = await runTest({
        cliPath: resolve(opts.cli!),
        outDir,
        seed,
        timeMs: Number(opts.time) * 1000,
        nemeses: parseNemesisList(opts.nemesis!),
        nodes: Number(opts.nodes),
        ...(opts.bugs ? { testBugs: opts.bugs.split(',') } : {}),
        ...(num('gapMs') !== undefined ? { scheduleGapMs: num('gapMs')! } : {}),
        ...(num('faultMs') !== undefined ? { scheduleFaultMs: num('faultMs')! } : {}),
        ...(num('snapshotEvery') !== undefined ? { snapshotEvery: num('snapshotEvery')! } : {}),
        workload,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      console.log(`seed ${seed}: ${result.summary}`);
      console.log(`history: ${result.historyPath}\nreport: ${result.reportPath}`);
      results.push(`seed ${seed}: ${result.report.result}`);
      worst = Math.max(worst, exitCode(result.report.result));
    }
    if (seeds.length > 1) console.log(`seeds: ${results.join(', ')}`);
    process.exitCode = worst;
  });

program
  .command('check <history>')
  .description('check a recorded history.jsonl and write report.html next to it')
  .option('--out <dir>', 'where to write report.html')
  .option('--skew-ms <n>', 'clock skew bound for the real-time admission check', '0')
  .action((history: string, opts: { out?: string; skewMs: string }) => {
    const lines = readHistory(history);
    const report = checkHistory(lines, { skewBoundMs: Number(opts.skewMs) });
    const reportPath = join(opts.out ?? dirname(resolve(history)), 'report.html');
    writeFileSync(reportPath, renderHtmlReport(lines, report, `jepsen-lite: ${history}`));
    console.log(summaryLine(report));
    console.log(`report: ${reportPath}`);
    process.exitCode = exitCode(report.result);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`jepsen-lite: ${(err as Error).message}\n`);
  process.exitCode = 3;
});
