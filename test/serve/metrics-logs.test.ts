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

/** Over nodes; a labelled series a node never touched is absent there (0). */
function sum(all: Samples[], name: string): number {
  return all.reduce((acc, m) => acc + (m.get(name) ?? 0), 0);
}

t.test('metrics and logs of a real group under load', async (t) => {
  // A 1 s election timeout: the counts below assume one leader during the load even when
  // the box is starved (they are summed over nodes all the same). Snapshots every 20 entries:
  // each node starts its own at its slot, up to 19 entries after it is due, and the ~55
  // entries of this load must hold one for every node.
  const c = await Cluster.create({
    extraArgs: () => ['--log-level', 'info', '--snapshot-every', '20', '--election-ticks', '50'],
  });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  const ids = c.specs.map((s) => s.id);
  const f1 = ids.find((id) => id !== leader)!;
  await c.request(leader, 'PUT', '/rules/default', { limit: 30, windowMs: 600_000 });
  const linesBefore = logLines(c, leader).length;
  const at = (id: string, key: string) => c.request(id, 'POST', '/allow', { key });
  for (let i = 0; i < 50; i++) await at(leader, 'm');
  for (let i = 0; i < 20; i++) await at(f1, 'f');
  await sleep(300);

  await t.test('decisions, latency, lease and Raft instruments move', async (t) => {
    const all = await Promise.all(ids.map((id) => scrape(c, id)));
    t.equal(sum(all, decided), 30 + 20, 'allowed: 30 of key m, 20 (forwarded) of key f');
    t.equal(sum(all, denied), 20, 'denied: the 20 beyond the limit');
    t.equal(sum(all, 'drl_decision_duration_seconds_count'), 70, 'latency: every decision');
    const lease = sum(all, 'drl_lease_served_total');
    t.ok(lease > 0 && lease <= 20, `lease-served denials: ${lease} of 20`);
    t.ok(sum(all, 'drl_forwarded_requests_total') >= 1, 'the follower forwarded');
    for (const [n, m] of all.entries()) {
      const id = ids[n]!;
      t.ok(get(m, 'drl_raft_term') >= 1, `${id}: term gauge`);
      t.ok(get(m, 'drl_raft_commit_index') >= 51, `${id}: commit gauge moved`);
      t.ok(get(m, 'drl_raft_applied_index') >= 51, `${id}: applied gauge moved`);
      t.ok(get(m, 'drl_raft_leader_changes_total') >= 1, `${id}: leader changes`);
      t.equal(get(m, 'drl_raft_proposals_in_flight'), 0, `${id}: nothing in flight when idle`);
      t.ok(get(m, 'drl_fsync_duration_seconds_count') > 0, `${id}: fsync histogram`);
      t.ok(get(m, 'drl_raft_batch_entries_sum') >= 51, `${id}: batches count the entries`);
      t.ok(get(m, 'drl_raft_peer_connects_total') >= 2, `${id}: peer connections`);
      t.ok(get(m, 'drl_snapshot_duration_seconds_count') >= 1, `${id}: a snapshot was written`);
    }
  });

  await t.test('info logs: events, never one line per decision', async (t) => {
    const during = logLines(c, leader).slice(linesBefore);
    t.ok(during.length < 35, `${during.length} lines for 70 decisions`);
    t.notOk(
      during.some((l) => /request|allow/i.test(String(l.msg))),
      'no request or decision lines',
    );
    for (const id of ids) {
      const lines = logLines(c, id);
      const msgs = lines.map((l) => String(l.msg));
      t.ok(msgs.includes('node started'), `${id}: started`);
      t.ok(msgs.includes('raft transport: connected'), `${id}: peer connect`);
      t.ok(
        lines.some((l) => l.msg === 'snapshot written'),
        `${id}: the snapshot is logged`,
      );
      const changes = msgs.filter((m) => m === 'raft: leader change').length;
      const counted = get(await scrape(c, id), 'drl_raft_leader_changes_total');
      t.equal(changes, counted, `${id}: one line per leader change (${changes})`);
    }
  });

  await t.test('a membership change is logged; no quorum gives counted 503s', async (t) => {
    const now = await c.waitLeader();
    const [a, b] = ids.filter((id) => id !== now) as [string, string];
    const removed = await c.request(now, 'DELETE', `/cluster/members/${b}`);
    t.equal(removed.status, 200, JSON.stringify(removed.body));
    await sleep(300);
    const change = logLines(c, now).find(
      (l) => l.msg === 'membership change' && l.change === 'remove',
    );
    t.match(change, { member: b }, 'the removal is logged on the leader');
    await c.kill(a);
    const r = await c.request(now, 'POST', '/allow', { key: 'q' }, 10_000);
    t.equal(r.status, 503);
    t.equal(r.body.error, 'unavailable');
    t.ok(r.headers.get('retry-after'), 'Retry-After');
    t.ok(get(await scrape(c, now), 'drl_unavailable_total') >= 1, '503s counted');
  });
});
