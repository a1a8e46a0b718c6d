// The library Client against a real 3-node group: kill -9 of the leader mid-stream (retries
// reuse the requestId, so nothing is counted twice and every call is answered within its
// timeout), then a stopped group: failOpen / failClosed answer locally, counted, logged once.
import t from 'tap';
import { Client } from '../../src/client/index.js';
import { Cluster, sleep } from './cluster-harness.js';

t.test('Client on a real group', async (t) => {
  const c = await Cluster.create();
  t.teardown(() => c.stopAll());
  await c.waitLeader();
  const endpoints = c.specs.map((s) => s.http);

  await t.test('leader killed mid-stream: no double count, failover in time', async (t) => {
    const timeoutMs = 5000;
    const client = new Client({ endpoints, timeoutMs });
    t.teardown(() => client.close());
    await client.setRule('default', { limit: 1_000_000, windowMs: 3_600_000 });
    const leader = await c.waitLeader();
    let grants = 0;
    let failures = 0;
    let slowestMs = 0;
    let running = true;
    const worker = async () => {
      for (let i = 0; running && i < 100_000; i++) {
        const startedMs = Date.now();
        try {
          const d = await client.check('stream');
          if (d.allowed && d.degraded !== true) grants++;
        } catch {
          failures++;
        }
        slowestMs = Math.max(slowestMs, Date.now() - startedMs);
      }
    };
    const workers = [1, 2, 3, 4].map(worker);
    await sleep(1000);
    const beforeKill = grants;
    await c.kill(leader, 'SIGKILL');
    const next = await c.waitLeader(10_000);
    const afterElection = grants;
    await sleep(1500);
    running = false;
    await Promise.all(workers);
    t.not(next, leader, `a new leader (${next}) took over`);
    t.ok(beforeKill > 0, `${beforeKill} grants before the kill`);
    t.ok(grants > afterElection, 'grants continued after the failover');
    t.equal(failures, 0, 'no call failed: each was answered within its timeout');
    t.ok(slowestMs < timeoutMs + 500, `slowest call ${slowestMs} ms`);
    const usage = await client.usage('default', 'stream');
    t.equal(usage.used, grants, `the group counted exactly the ${grants} grants acknowledged`);
    t.comment(`grants ${grants}, slowest call ${slowestMs} ms across the kill -9`);
  });

  await t.test('a stopped group: failOpen allows, failClosed denies, degraded', async (t) => {
    for (const id of c.alive()) await c.kill(id, 'SIGTERM');
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) };
    const common = { endpoints, timeoutMs: 400, logger, degradedLogIntervalMs: 60_000 };
    const open = new Client({ ...common, onUnavailable: 'failOpen' });
    const closed = new Client({ ...common, onUnavailable: 'failClosed' });
    const strict = new Client({ endpoints, timeoutMs: 400 });
    t.teardown(async () => {
      await Promise.all([open.close(), closed.close(), strict.close()]);
    });
    for (let i = 0; i < 3; i++) {
      const d = await open.check('k', { limit: 5, windowMs: 1000 });
      t.match(d, { allowed: true, degraded: true, index: null, remaining: 5 });
    }
    t.equal(await open.allow('k'), true, 'allow() too');
    t.equal(open.degradedTotal, 4, 'failOpen answers counted');
    for (let i = 0; i < 2; i++) {
      t.match(await closed.check('k'), { allowed: false, degraded: true, index: null });
    }
    t.equal(closed.degradedTotal, 2, 'failClosed answers counted');
    t.equal(warnings.length, 2, 'one warning per client per interval, not one per call');
    t.match(warnings[0], /failOpen/);
    t.match(warnings[1], /failClosed/);
    await t.rejects(strict.check('k'), { code: 'unavailable' }, "'throw' (default) throws");
    t.equal(strict.degradedTotal, 0);
  });
});
