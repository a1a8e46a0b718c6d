// `drl serve` security against a real 3-node group: bearer token (401, ops routes open unless
// --protect-ops) and the cluster secret (a member with the wrong one is refused, logged, counted,
// and cannot vote).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Cluster, sleep } from './cluster-harness.js';

const token = 'test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'drl-sec-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const goodSecret = join(dir, 'good.secret');
const badSecret = join(dir, 'bad.secret');
writeFileSync(goodSecret, 'the-cluster-secret-of-this-group-0001');
writeFileSync(badSecret, 'another-secret-entirely-not-ours-0002');

async function raw(
  c: Cluster,
  id: string,
  method: string,
  path: string,
  authorization?: string,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(5000) };
  if (method === 'POST') {
    init.body = JSON.stringify({ key: 'k', limit: 5, windowMs: 60_000 });
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(c.url(id, path), init);
  return { status: res.status, text: await res.text() };
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

t.test('token, --protect-ops and a member with the wrong cluster secret', async (t) => {
  const c = await Cluster.create({
    token,
    extraArgs: (id) => [
      '--token',
      token,
      '--cluster-secret-file',
      id === 'n3' ? badSecret : goodSecret,
      ...(id === 'n2' ? ['--protect-ops'] : []),
    ],
  });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader(30_000, ['n1', 'n2']);
  const follower = leader === 'n1' ? 'n2' : 'n1';

  await t.test('no token or a wrong one: 401 unauthorized on every API route', async (t) => {
    for (const [method, path] of [
      ['POST', '/allow'],
      ['GET', '/cluster'],
      ['GET', '/rules'],
      ['GET', '/keys/default/k'],
    ] as const) {
      const none = await raw(c, leader, method, path);
      t.equal(none.status, 401, `${method} ${path} without a token`);
      t.same(JSON.parse(none.text).error, 'unauthorized');
      const wrong = await raw(c, leader, method, path, `Bearer ${token}x`);
      t.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      const short = await raw(c, leader, method, path, 'Bearer t');
      t.equal(short.status, 401, `${method} ${path} with a short token`);
    }
    const ok = await raw(c, follower, 'POST', '/allow', `Bearer ${token}`);
    t.equal(ok.status, 200, 'with the token a follower forwards and the leader decides');
    t.equal(JSON.parse(ok.text).allowed, true);
  });

  await t.test('ops routes are open unless --protect-ops', async (t) => {
    for (const path of ['/healthz', '/metrics', '/readyz']) {
      t.equal((await raw(c, 'n1', 'GET', path)).status, 200, `n1 ${path} open`);
      t.equal((await raw(c, 'n2', 'GET', path)).status, 401, `n2 (--protect-ops) ${path} closed`);
      t.equal((await raw(c, 'n2', 'GET', path, `Bearer ${token}`)).status, 200, `n2 ${path}`);
    }
  });

  await t.test('the member with the wrong secret is refused, logged and counted', async (t) => {
    const n3 = await c.request('n3', 'GET', '/cluster');
    t.equal(n3.body.leader, null, 'n3 never learns of the leader');
    t.equal((await raw(c, 'n3', 'GET', '/readyz')).status, 503, 'n3 is not ready');
    const logs = `${c.logs.get('n1')!.join('')}${c.logs.get('n2')!.join('')}`;
    t.match(logs, /raft transport: refused inbound peer/, 'the refusal is logged');
    t.match(logs, /"claimedId":"n3"/, 'naming the claimed id');
    t.notMatch(logs, /the-cluster-secret|another-secret/, 'never the secret');
    const metrics = (await raw(c, leader, 'GET', '/metrics', `Bearer ${token}`)).text;
    const refused = metricValue(metrics, 'drl_raft_peer_auth_failures_total');
    t.ok(refused > 0, `drl_raft_peer_auth_failures_total on the leader is ${refused}`);
  });

  await t.test('it cannot vote: with the other follower gone there is no quorum', async (t) => {
    const before = await c.request(leader, 'GET', '/cluster');
    await sleep(1000);
    const after = await c.request(leader, 'GET', '/cluster');
    t.equal(after.body.term, before.body.term, 'n3 campaigning does not disturb the leader');
    await c.kill(follower);
    let status = 0;
    for (let i = 0; i < 3 && status !== 503; i++) {
      status = (await raw(c, leader, 'POST', '/allow', `Bearer ${token}`)).status;
    }
    t.equal(status, 503, 'no decision without a quorum of right-secret members');
    const n3 = await c.request('n3', 'GET', '/cluster');
    t.not(n3.body.role, 'leader', 'n3 cannot become leader either');
  });
});
