// A +1 h jump of the leader's clocks (wall and monotonic) moves no window: the decision time is
// the median of the voters' clocks, so one bad clock cannot move it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Cluster, sleep } from './cluster-harness.js';

/** The bound README and ARCHITECTURE state for a minority's clock fault. */
const skewBoundMs = 2_000;

t.test('a clock jump of +1 h on the leader moves no window', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drl-clock-'));
  const clockFile = (id: string) => join(dir, `${id}.clock.json`);
  for (const id of ['n1', 'n2', 'n3']) writeFileSync(clockFile(id), '{"offsetMs":0,"rate":1}');
  const c = await Cluster.create({
    extraArgs: (id) => ['--test-mode', '--test-clock', clockFile(id)],
  });
  t.teardown(async () => {
    await c.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const leader = await c.waitLeader();
  const body = { key: 'skew', limit: 2, windowMs: 60_000 };
  const a = await c.request(leader, 'POST', '/allow', body);
  const b = await c.request(leader, 'POST', '/allow', body);
  t.equal(a.body.allowed, true);
  t.equal(b.body.allowed, true);
  writeFileSync(clockFile(leader), JSON.stringify({ offsetMs: 3_600_000, rate: 1 }));
  await sleep(500);
  const after = await c.request(leader, 'POST', '/allow', body);
  t.equal(after.status, 200);
  t.equal(after.body.allowed, false, 'the window still holds both grants');
  const movedMs = (after.body.ts as number) - (b.body.ts as number);
  t.comment(`decision time moved ${movedMs} ms across a +3,600,000 ms jump`);
  t.ok(movedMs >= 0 && movedMs < skewBoundMs, `ts moved ${movedMs} ms (< ${skewBoundMs})`);
  const d = await c.request(leader, 'POST', '/allow', { ...body, key: 'skew-2', requestId: 'x' });
  t.ok((d.body.ts as number) - (b.body.ts as number) < skewBoundMs, 'log entries too');
});
