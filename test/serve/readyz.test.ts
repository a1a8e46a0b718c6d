// /readyz on real processes: 503 until the node is in a group with a known leader and has
// applied close to its commit; /healthz is 200 whenever the process serves HTTP.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { Cluster, cliPath, sleep } from './cluster-harness.js';

const run = promisify(execFile);

async function status(c: Cluster, id: string, path: string): Promise<number> {
  try {
    return (await c.request(id, 'GET', path, undefined, 2000)).status;
  } catch {
    return 0;
  }
}

async function until(c: Cluster, id: string, want: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let got = 0;
  while (Date.now() < deadline) {
    got = await status(c, id, '/readyz');
    if (got === want) return got;
    await sleep(100);
  }
  return got;
}

t.test('/readyz follows membership, leader and apply; /healthz stays 200', async (t) => {
  const c = await Cluster.create({ joiners: 1 });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  for (const s of c.specs.slice(0, 3)) {
    t.equal(await until(c, s.id, 200), 200, `${s.id} ready in the group`);
  }
  c.start('n4', true);
  t.equal(await until(c, 'n4', 503), 503, 'a --join node outside any group is not ready');
  t.equal(await status(c, 'n4', '/healthz'), 200, 'but it is healthy');
  const n4 = c.spec('n4');
  const added = await run(process.execPath, [
    cliPath,
    '--endpoints',
    c.spec(leader).http,
    'cluster',
    'add',
    'n4',
    '--raft',
    n4.raft,
    '--http',
    n4.http,
  ]);
  t.match(added.stdout, /^member n4 added/);
  t.equal(await until(c, 'n4', 200), 200, 'once added and caught up it is ready');
  const others = c.specs.map((s) => s.id).filter((id) => id !== leader && id !== 'n4');
  for (const id of [...others, 'n4']) await c.kill(id);
  t.equal(await until(c, leader, 503), 503, 'a lone survivor loses its leader: not ready');
  t.equal(await status(c, leader, '/healthz'), 200, 'still healthy');
});
