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

const program = new Command('jepsen-lite');
program
  .option(
    '--nemesis <list>',
    'all | none | comma list of kill,pause,partition,clock,membership,transfer,link',
    'all',
  )
  .option('--time <seconds>', 'workload duration', '60')
  .option('--seed <n>', 'schedule and workload seed', '1')
  .option('--nodes <n>', 'cluster size (3 or 5)', '3')
  .option('--workers <n>', 'concurrent clients', '8')
  .option('--bugs <list>', 'pass --test-bugs to every node')
  .option('--out <dir>', 'output directory', 'jepsen-out')
  .option('--cli <path>', 'drl CLI', 'dist/src/cli/main.js')
  .action(async (opts: Record<string, string>) => {
    const seed = Number(opts.seed);
    const outDir = resolve(opts.out!, `seed-${seed}-${Date.now()}`);
    const result = await runTest({
      cliPath: resolve(opts.cli!),
      outDir,
      seed,
      timeMs: Number(opts.time) * 1000,
      nemeses: parseNemesisList(opts.nemesis!),
      nodes: Number(opts.nodes),
      ...(opts.bugs ? { testBugs: opts.bugs.split(',') } : {}),
      workload: { workers: Number(opts.workers) },
      log: (line) => process.stderr.write(`${line}\n`),
    });
    console.log(result.summary);
    console.log(`history: ${result.historyPath}\nreport: ${result.reportPath}`);
    process.exitCode = exitCode(result.report.result);
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
