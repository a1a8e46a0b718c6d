import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { buildApi, createMetrics } from '../../src/api/index.js';
import { FakeService } from './fake-service.js';

async function listen(app: ReturnType<typeof buildApi>): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

t.test('a follower forwards to the leader and returns its answer unchanged', async (t) => {
  const leaderSvc = new FakeService({ id: 'n1', rules: { default: { limit: 1, windowMs: 4000 } } });
  const leader = buildApi(leaderSvc, { token: 'tok' });
  const followerSvc = new FakeService({ id: 'n2' });
  const metrics = createMetrics({ processMetrics: false });
  const follower = buildApi(followerSvc, { token: 'tok', metrics });
  t.teardown(async () => {
    await follower.close();
    await leader.close();
  });
  const leaderAddr = await listen(leader);
  const followerAddr = await listen(follower);
  followerSvc.follower = { leaderId: 'n1', leaderHttp: leaderAddr };

  const auth = { authorization: 'Bearer tok', 'content-type': 'application/json' };
  const post = (body: object) =>
    request(`http://${followerAddr}/allow`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(body),
    });

  const first = await post({ key: 'a', requestId: 'q1' });
  t.equal(first.statusCode, 200);
  t.same(await first.body.json(), {
    allowed: true,
    limit: 1,
    remaining: 0,
    resetMs: 4000,
    retryAfterMs: 0,
    index: 1,
    ts: 1_700_000_000_000,
  });
  t.equal(first.headers['ratelimit-policy'], '"default";q=1;w=4');
  t.equal(leaderSvc.calls.length, 1, 'decided by the leader');
  t.equal(followerSvc.calls.length, 0, 'not by the follower');
  t.same(leaderSvc.calls[0], { key: 'a', requestId: 'q1' });

  const denied = await post({ key: 'a' });
  t.equal(denied.statusCode, 200);
  t.equal(((await denied.body.json()) as { allowed: boolean }).allowed, false);
  t.equal(denied.headers['retry-after'], '4');
  t.equal(denied.headers['ratelimit-remaining'], '0');

  const bad = await post({ key: 'a', rule: 'missing' });
  t.equal(bad.statusCode, 400, "the leader's error status passes through");
  t.same(await bad.body.json(), { error: 'unknown_rule', message: 'no rule named missing' });

  const put = await request(`http://${followerAddr}/rules/r2`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ limit: 2, windowMs: 10 }),
  });
  t.equal(put.statusCode, 200);
  await put.body.dump();
  t.same(leaderSvc.rules.get('r2'), { limit: 2, windowMs: 10 }, 'mutation applied on the leader');

  const del = await request(`http://${followerAddr}/rules/r2`, {
    method: 'DELETE',
    headers: { authorization: 'Bearer tok' },
  });
  t.equal(del.statusCode, 200);
  await del.body.dump();
  t.notOk(leaderSvc.rules.has('r2'));

  const cluster = await request(`http://${followerAddr}/cluster`, { headers: auth });
  t.equal(
    ((await cluster.body.json()) as { id: string }).id,
    'n2',
    'GET /cluster is answered locally',
  );
  t.match(await metrics.registry.metrics(), /^drl_forwarded_requests_total 5$/m);
});

t.test('forwarding never loops and a dead leader gives 503 + Retry-After', async (t) => {
  const aSvc = new FakeService({ id: 'a' });
  const bSvc = new FakeService({ id: 'b' });
  const a = buildApi(aSvc, { requestTimeoutMs: 2000 });
  const b = buildApi(bSvc, { requestTimeoutMs: 2000 });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const aAddr = await listen(a);
  const bAddr = await listen(b);
  // Each believes the other leads: a forwarded request must stop at the second hop.
  aSvc.follower = { leaderId: 'b', leaderHttp: bAddr };
  bSvc.follower = { leaderId: 'a', leaderHttp: aAddr };
  const r = await request(`http://${aAddr}/allow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'k' }),
  });
  t.equal(r.statusCode, 503);
  t.equal(((await r.body.json()) as { error: string }).error, 'unavailable');
  t.equal(r.headers['retry-after'], '1');

  await b.close();
  const dead = await request(`http://${aAddr}/allow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'k' }),
  });
  t.equal(dead.statusCode, 503);
  t.equal(((await dead.body.json()) as { error: string }).error, 'unavailable');
  t.equal(dead.headers['retry-after'], '1');
});

t.test('a forward to a leader that hangs is bounded by the request timeout', async (t) => {
  const leaderSvc = new FakeService({ id: 'n1' });
  leaderSvc.outage = 'hang';
  const leader = buildApi(leaderSvc, { requestTimeoutMs: 5000 });
  const followerSvc = new FakeService({ id: 'n2' });
  const follower = buildApi(followerSvc, { requestTimeoutMs: 300 });
  t.teardown(async () => {
    await follower.close();
    await leader.close();
  });
  followerSvc.follower = { leaderId: 'n1', leaderHttp: `http://${await listen(leader)}` };
  const r = await follower.inject({ method: 'POST', url: '/allow', payload: { key: 'k' } });
  t.equal(r.statusCode, 503);
  t.equal(r.json().error, 'unavailable');
});
