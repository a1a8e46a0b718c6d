// Short jepsen-lite runs against real `drl serve` processes (needs `npm run build`, which
// `npm test` runs first): a mixed-fault run must check ok, a planted bug must be caught.
import t from 'tap';
import { runShortE2E } from './runner/e2e-short.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('a short mixed-fault run against a real 3-node group checks ok', async (t) => {
  const { report, summary, reportPath, nodePids } = await runShortE2E({ seed: 1 });
  t.equal(report.result, 'ok', `${summary} (${reportPath})`);
  t.ok(report.counts.ok > 100, `the cluster answered (${report.counts.ok} ok)`);
  t.same(nodePids.filter(alive), [], 'every node process has exited');
});

t.test('ack-before-fsync under kill -9 of all nodes is caught', async (t) => {
  const { report, summary, reportPath } = await runShortE2E({
    seed: 1,
    testBugs: ['ack-before-fsync'],
    nemeses: ['kill-all'],
  });
  t.equal(report.result, 'fail', `${summary} (${reportPath})`);
});
