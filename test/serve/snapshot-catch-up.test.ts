// Issue 5/6: a follower stopped while the group applies entries, restarted after the leader
// compacted past it, catches up by snapshot and then agrees on the windows (read through it as
// leader).
import t from 'tap';
import { decide, until, used, view } from './load-helpers.js';
import { agreesAsLeader, applyWhileDown, entries, hotLimit, setUp } from './snapshot-helpers.js';

t.test('a follower behind the compaction point catches up by snapshot', async (t) => {
  const { c, leader } = await setUp(t);
  const lagging = c.specs.map((s) => s.id).find((id) => id !== leader)!;
  await c.kill(lagging, 'SIGKILL');
  const startMs = Date.now();
  const { granted, indeterminate } = await applyWhileDown(c);
  t.comment(`${entries} decisions in ${Date.now() - startMs} ms with one node down`);
  t.equal(indeterminate, 0, 'every decision was definite');
  t.equal(granted.get('hot/hot'), hotLimit, 'hot key granted exactly its limit');
  const target = (await view(c, await c.waitLeader()))!.commitIndex;
  c.start(lagging);
  const caughtUp = await until(
    async () => ((await view(c, lagging))?.appliedIndex ?? 0) >= target,
    30_000,
  );
  t.ok(caughtUp, `${lagging} applied up to ${target}\n${caughtUp ? '' : c.dumpLogs()}`);
  const senders = c.specs.filter((s) => c.logged(s.id, 'raft: sending snapshot')).map((s) => s.id);
  t.ok(
    c.logged(lagging, 'raft: snapshot installed'),
    `${lagging} installed a snapshot (sent by: ${senders.join(',') || 'none'})`,
  );
  await agreesAsLeader(t, c, lagging, granted);

  // Every node restarts from a compacted log (snapshot meta + configuration + tail) and its
  // limiter snapshot: the windows survive and the hot key stays full.
  for (const s of c.specs) await c.kill(s.id, 'SIGKILL');
  for (const s of c.specs) c.start(s.id);
  await c.waitLeader(20_000);
  t.equal(
    await used(c, 'hot', 'hot'),
    hotLimit,
    'after a full restart the hot key holds the limit',
  );
  t.equal(
    await decide(c, { key: 'hot', rule: 'hot' }),
    false,
    'and the next hot request is denied',
  );
  t.equal(
    await used(c, 'default', 'k1'),
    granted.get('default/k1') ?? 0,
    'k1 survives the restart',
  );
});
