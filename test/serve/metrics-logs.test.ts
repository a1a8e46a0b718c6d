// GET /metrics on a real group moves with load (decisions, latency, lease, Raft gauges, fsync,
// batches, forwarding, 503s), and the info log has one line per event, never per decision.
import t from 'tap';
import { Cluster, sleep } from './cluster-harness.js';

type Samples = Map<string, number>;

async function scrape(c: Cluster, id: string): Promise<Samples> {
  const res = await fetch(c.url(id, '/metrics'), { signal: AbortSignal.timeout(5000) });
  const samples: Samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

function get(s: Samples, name: string): number {
  const v = s.get(name);
  if (v === undefined) throw new Error(`metric ${name} missing`);
  return v;
}

function logLines(c: Cluster, id: string): Array<Record<string, unknown>> {
  return (c.logs.get(id) ?? [])
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const decided = 'drl_decisions_total{outcome="allowed",rule="default"}';
const denied = 'drl_decisions_total{outcome="denied",rule="default"}';

t.test('metrics and logs of a real group under load', async (t) => {
  const c = await Cluster.create({
    extraArgs: () => ['--log-level', 'info', '--snapshot-every', '40'],
  });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  const [f1, f2] = c.specs.map((s) => s.id).filter((id) => id !== leader) as [string, string];
  await c.request(leader, 'PUT', '/rules/default', { limit: 30, windowMs: 600_000 });
  const linesBefore = logLines(c, leader).length;
  const at = (id: string, key: string) => c.request(id, 'POST', '/allow', { key });
  for (let i = 0; i < 50; i++) await at(leader, 'm');
  for (let i = 0; i < 20; i++) await at(f1, 'f');
  await sleep(300);

  await t.test('the leader counts what it decided', async (t) => {
    const m = await scrape(c, leader);
    t.equal(get(m, decided), 30 + 20, 'allowed: 30 of key m, 20 forwarded of key f');
    t.equal(get(m, denied), 20, 'denied: the 20 beyond the limit');
    t.equal(get(m, 'drl_decision_duration_seconds_count'), 70, 'latency histogram: every decision');
    t.ok(get(m, 'drl_decision_duration_seconds_sum') > 0);
    const lease = get(m, 'drl_lease_served_total');
    t.ok(lease > 0 && lease <= 20, `lease-served denials: ${lease} of 20`);
    t.ok(get(m, 'drl_raft_term') >= 1, 'term gauge');
    t.ok(get(m, 'drl_raft_commit_index') >= 51, 'commit gauge moved');
    t.ok(get(m, 'drl_raft_applied_index') >= 51, 'applied gauge moved');
    t.ok(get(m, 'drl_raft_leader_changes_total') >= 1, 'leader changes');
    t.equal(get(m, 'drl_raft_proposals_in_flight'), 0, 'nothing in flight when idle');
    t.ok(get(m, 'drl_fsync_duration_seconds_count') > 0, 'fsync histogram');
    t.ok(get(m, 'drl_raft_batch_entries_sum') >= 51, 'batch histogram counts the entries');
    t.ok(get(m, 'drl_raft_peer_connects_total') >= 2, 'peer connections');
    t.ok(get(m, 'drl_snapshot_duration_seconds_count') >= 1, 'a snapshot was written');
    t.equal(get(m, 'drl_forwarded_requests_total'), 0, 'the leader forwards nothing');
  });

  await t.test('the follower counts what it forwarded', async (t) => {
    const m = await scrape(c, f1);
    t.equal(get(m, 'drl_forwarded_requests_total'), 20);
    t.ok(get(m, 'drl_raft_applied_index') >= 51, 'followers apply too');
  });

  await t.test('info logs: events, never one line per decision', async (t) => {
    const during = logLines(c, leader).slice(linesBefore);
    t.ok(during.length < 10, `${during.length} lines for 70 decisions`);
    t.notOk(
      during.some((l) => /request|allow/i.test(String(l.msg))),
      'no request or decision lines',
    );
    for (const id of [leader, f1, f2]) {
      const msgs = logLines(c, id).map((l) => String(l.msg));
      t.ok(msgs.includes('node started'), `${id}: started`);
      t.ok(msgs.includes('raft: leader change'), `${id}: leader change`);
      t.ok(msgs.includes('raft transport: connected'), `${id}: peer connect`);
    }
    const changes = logLines(c, leader).filter((l) => l.msg === 'raft: leader change');
    t.ok(changes.length <= 3, `one line per change (${changes.length})`);
    t.ok(
      logLines(c, leader).some((l) => l.msg === 'snapshot written'),
      'the snapshot is logged',
    );
  });

  await t.test('a membership change is logged; no quorum gives counted 503s', async (t) => {
    const removed = await c.request(leader, 'DELETE', `/cluster/members/${f2}`);
    t.equal(removed.status, 200, JSON.stringify(removed.body));
    await sleep(300);
    const change = logLines(c, leader).find(
      (l) => l.msg === 'membership change' && l.change === 'remove',
    );
    t.match(change, { member: f2 }, 'the removal is logged on the leader');
    await c.kill(f1);
    const r = await c.request(leader, 'POST', '/allow', { key: 'q' }, 10_000);
    t.equal(r.status, 503);
    t.equal(r.body.error, 'unavailable');
    t.ok(r.headers.get('retry-after'), 'Retry-After');
    t.ok(get(await scrape(c, leader), 'drl_unavailable_total') >= 1, '503s counted');
  });
});
