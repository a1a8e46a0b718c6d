import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { Cluster, type NodeCrash } from './cluster.js';
import { httpJson } from './http.js';

// Regression (campaign seed 42): a node re-added by the membership nemesis was restarted by a
// later kill with --peers, bootstrapped a second group on its empty log, and two leaders
// answered at once. A node that joined must restart with --join, never --peers.
t.test('a re-joined node restarts with --join, an original member with --peers', async (t) => {
  const baseDir = mkdtempSync(join(tmpdir(), 'jepsen-cluster-'));
  const cluster = await Cluster.start({
    nodes: 2,
    baseDir,
    cliPath: resolve('jepsen-lite/runner/fake-node.ts'),
    nodeArgs: ['--import', 'tsx'],
  });
  t.teardown(async () => {
    await cluster.stop();
    rmSync(baseDir, { recursive: true, force: true });
  });
  await cluster.wipeAndJoin('n2');
  await cluster.kill('n2');
  cluster.restart('n2');
  await cluster.kill('n1');
  cluster.restart('n1');
  const n1 = cluster.node('n1').lastArgs;
  const n2 = cluster.node('n2').lastArgs;
  t.ok(n2.includes('--join') && !n2.includes('--peers'), n2.join(' '));
  t.ok(n1.includes('--peers') && !n1.includes('--join'), n1.join(' '));
});

// A joined node dials its peers at their real addresses (serve refuses --join with --peers);
// once it holds a log it is restarted with --peers so its outgoing links use the proxies.
t.test('a re-joined node moves to --peers only once it has applied entries', async (t) => {
  const baseDir = mkdtempSync(join(tmpdir(), 'jepsen-cluster-'));
  const cluster = await Cluster.start({
    nodes: 2,
    baseDir,
    cliPath: resolve('jepsen-lite/runner/fake-node.ts'),
    nodeArgs: ['--import', 'tsx'],
  });
  t.teardown(async () => {
    await cluster.stop();
    rmSync(baseDir, { recursive: true, force: true });
  });
  await cluster.wipeAndJoin('n2');
  await cluster.waitForLeader(10_000);
  t.equal(await cluster.restartThroughProxies('n2', 1500), false, 'empty log: left on --join');
  t.ok(cluster.node('n2').lastArgs.includes('--join'));
  const op = { rule: 'default', key: 'k', limit: 5, windowMs: 1000, cost: 1 };
  await httpJson('POST', `${cluster.url('n2')}/allow`, op, 2000);
  t.equal(await cluster.restartThroughProxies('n2', 5000), true);
  const args = cluster.node('n2').lastArgs;
  t.ok(args.includes('--peers') && !args.includes('--join'), args.join(' '));
  cluster.restart('n2');
  t.ok(cluster.node('n2').lastArgs.includes('--peers'), 'later restarts keep --peers');
});

// A node that exits on its own (it crashed, or refused to start) is reported; one the runner
// killed or stopped is not.
t.test('a node process that exits without the runner is reported as a crash', async (t) => {
  const baseDir = mkdtempSync(join(tmpdir(), 'jepsen-cluster-'));
  const crashes: NodeCrash[] = [];
  const cluster = await Cluster.start({
    nodes: 2,
    baseDir,
    cliPath: resolve('jepsen-lite/runner/fake-node.ts'),
    nodeArgs: ['--import', 'tsx'],
    onCrash: (c) => crashes.push(c),
  });
  t.teardown(() => rmSync(baseDir, { recursive: true, force: true }));
  await cluster.waitForLeader(10_000);
  await cluster.kill('n1');
  cluster.restart('n1');
  await cluster.waitForLeader(10_000);
  t.same(crashes, [], 'killed and restarted by the runner: no crash');
  const n2 = cluster.node('n2').child!;
  const exited = new Promise((resolve) => n2.once('exit', resolve));
  process.kill(n2.pid!, 'SIGKILL');
  await exited;
  t.same(
    crashes.map((c) => [c.node, c.signal]),
    [['n2', 'SIGKILL']],
  );
  await cluster.stop();
  t.equal(crashes.length, 1, 'stop is no crash');
});
