// Issue 5: membership changes under load, in real processes. Two nodes started with --join are
// added (POST /cluster/members) and become voters (by snapshot: the log is compacted), a
// follower is removed, leadership is transferred (POST /cluster/leader), and the leader removes
// itself; a hot key with limit N is granted exactly N across all of it.
import t from 'tap';
import { Cluster, sleep } from './cluster-harness.js';
import { type AllowBody, decide, load, until, used, view } from './load-helpers.js';

/** Attempts at POST /cluster/leader before the transfer counts as failed. */
const TRANSFER_ATTEMPTS_MAX = 3;

const hotLimit = 60;

/** Decisions from `workers` loops until stopped; counts hot grants and definite answers. */
function background(c: Cluster, workers: number) {
  const s = { running: true, hotGranted: 0, hotAttempts: 0, decided: 0, indeterminate: 0 };
  let n = 0;
  const loop = async () => {
    while (s.running) {
      const i = n++;
      const body: AllowBody = i % 5 === 0 ? { key: 'hot', rule: 'hot' } : { key: `k${i % 100}` };
      const d = await decide(c, body);
      if (d === null) s.indeterminate++;
      else s.decided++;
      if (body.rule === 'hot') {
        s.hotAttempts++;
        if (d === true) s.hotGranted++;
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, loop));
  const stop = () => {
    s.running = false;
    return done;
  };
  return { s, stop };
}

/**
 * A voter in its own view: it holds a configuration that names it (a --join node that was not
 * added yet is a 'follower' of no configuration) and is not a learner there.
 */
async function isVoter(c: Cluster, id: string): Promise<boolean> {
  const v = await view(c, id);
  return v !== null && v.role === 'follower' && v.members.some((m) => m.id === id);
}

async function members(c: Cluster, id: string): Promise<string[]> {
  return ((await view(c, id))?.members ?? []).map((m) => m.id).sort();
}

t.test('join, promote, remove, transfer, leader self-removal under load', async (t) => {
  const c = await Cluster.create({
    joiners: 2,
    extraArgs: () => ['--snapshot-every', '100', '--snapshot-tail', '100', '--log-level', 'info'],
  });
  t.teardown(() => c.stopAll());
  let leader = await c.waitLeader();
  await c.request(leader, 'PUT', '/rules/default', { limit: 1_000_000, windowMs: 3_600_000 });
  await c.request(leader, 'PUT', '/rules/hot', { limit: hotLimit, windowMs: 3_600_000 });
  // Enough history that the joiners start behind the compaction point.
  await load(c, 300, 8, (i) => ({ key: `warm${i % 50}` }));
  c.start('n4', true);
  c.start('n5', true);
  const bg = background(c, 8);

  for (const id of ['n4', 'n5']) {
    leader = await c.waitLeader();
    const spec = c.spec(id);
    const r = await c.request(leader, 'POST', '/cluster/members', {
      id,
      raft: spec.raft,
      http: spec.http,
    });
    t.equal(r.status, 200, `POST /cluster/members ${id}: ${JSON.stringify(r.body)}`);
    const voter = await until(() => isVoter(c, id), 30_000);
    t.ok(voter, `${id} became a voter\n${voter ? '' : c.dumpLogs()}`);
  }
  t.ok(c.logged('n4', 'raft: snapshot installed'), 'n4 caught up by snapshot');
  leader = await c.waitLeader();
  t.same(await members(c, leader), ['n1', 'n2', 'n3', 'n4', 'n5'], 'five members');

  const removed = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
  const del = await c.request(leader, 'DELETE', `/cluster/members/${removed}`);
  t.equal(del.status, 200, `DELETE ${removed}`);
  await c.kill(removed, 'SIGTERM');
  leader = await c.waitLeader();
  t.notOk((await members(c, leader)).includes(removed), `${removed} is no longer a member`);

  // A --join node restarted after the entries that added it were compacted away must still
  // reach its peers (members.json): without their addresses it can neither acknowledge the
  // leader nor stand for election, so the transfer below would fail.
  const to = leader === 'n4' ? 'n5' : 'n4';
  await sleep(1500);
  await c.kill(to, 'SIGKILL');
  c.start(to, true);
  const caughtUp = await until(async () => {
    const [mine, theirs] = [await view(c, to), await view(c, leader)];
    return mine !== null && theirs !== null && mine.appliedIndex >= theirs.commitIndex - 20;
  }, 20_000);
  t.ok(caughtUp, `${to} caught up after its restart\n${caughtUp ? '' : c.dumpLogs()}`);

  // (d) transfer to an up-to-date follower (the restarted joiner, brought up to date first).
  // A transfer that times out (the target missed the catch-up window under load: a 503 once on
  // a loaded box) is retried, as an operator would; it must succeed within three attempts.
  const statuses: number[] = [];
  let led = '';
  for (let attempt = 0; attempt < TRANSFER_ATTEMPTS_MAX && led !== to; attempt++) {
    const from = await c.waitLeader();
    if (from === to && attempt > 0) {
      // The previous attempt's transfer completed after its answer.
      led = to;
      break;
    }
    const tr = await c.request(from, 'POST', '/cluster/leader', { to }, 15_000);
    statuses.push(tr.status);
    if (tr.status < 300) led = await c.waitLeader(10_000);
  }
  t.equal(led, to, `${to} leads after the transfer (POST /cluster/leader: ${statuses.join(', ')})`);

  // (c) the leader removes itself: it keeps leading until the change commits, then steps down.
  const self = await c.request(to, 'DELETE', `/cluster/members/${to}`);
  t.equal(self.status, 200, `the leader ${to} removed itself`);
  const survivors = c.alive().filter((id) => id !== to);
  const next = await c.waitLeader(15_000, survivors);
  t.not(next, to, `${next} leads after the old leader left`);
  await c.kill(to, 'SIGTERM');
  t.notOk((await members(c, next)).includes(to), `${to} is no longer a member`);

  await sleep(500);
  const { s } = bg;
  await bg.stop();
  t.equal(s.indeterminate, 0, `every decision was definite (${s.decided})`);
  // Saturate the hot key if the load did not reach its limit.
  const topUp = await load(c, hotLimit + 10, 8, () => ({ key: 'hot', rule: 'hot' }));
  const granted = s.hotGranted + (topUp.granted.get('hot/hot') ?? 0);
  t.equal(
    granted,
    hotLimit,
    `hot key granted exactly ${hotLimit} of ${s.hotAttempts + hotLimit + 10}`,
  );
  t.equal(await used(c, 'hot', 'hot'), hotLimit, 'the window holds exactly the limit');
});
