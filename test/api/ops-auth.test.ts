import t from 'tap';
import { buildApi, createMetrics } from '../../src/api/index.js';
import { FakeService } from './fake-service.js';

t.test('bearer token: 401 without or with a wrong token; ops routes exempt', async (t) => {
  const service = new FakeService({ rules: { default: { limit: 5, windowMs: 1000 } } });
  const app = buildApi(service, { token: 's3cret' });
  t.teardown(() => app.close());
  const none = await app.inject({ method: 'POST', url: '/allow', payload: { key: 'a' } });
  t.equal(none.statusCode, 401);
  t.same(none.json(), { error: 'unauthorized', message: 'missing or wrong bearer token' });
  const wrong = await app.inject({
    method: 'GET',
    url: '/cluster',
    headers: { authorization: 'Bearer s3cre' },
  });
  t.equal(wrong.statusCode, 401);
  const right = await app.inject({
    method: 'POST',
    url: '/allow',
    payload: { key: 'a' },
    headers: { authorization: 'Bearer s3cret' },
  });
  t.equal(right.statusCode, 200);
  t.equal(service.calls.length, 1, 'only the authorized call reached the service');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
});

t.test('protectOps puts /healthz and /metrics behind the token too', async (t) => {
  const app = buildApi(new FakeService(), { token: 'tok', protectOps: true });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/metrics?x=1' })).statusCode, 401);
  const ok = await app.inject({
    method: 'GET',
    url: '/healthz',
    headers: { authorization: 'Bearer tok' },
  });
  t.equal(ok.statusCode, 200);
});

t.test('healthz and readyz', async (t) => {
  const service = new FakeService();
  const app = buildApi(service);
  t.teardown(() => app.close());
  t.same((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
  t.same((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });
  service.isReady = false;
  const notReady = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(notReady.statusCode, 503);
  t.equal(notReady.json().error, 'unavailable');
  t.equal(notReady.headers['retry-after'], '1');
});

t.test('503 unavailable with Retry-After: service throws, or hangs past the timeout', async (t) => {
  const service = new FakeService({ rules: { default: { limit: 5, windowMs: 1000 } } });
  const metrics = createMetrics({ processMetrics: false });
  const app = buildApi(service, { requestTimeoutMs: 100, retryAfterSeconds: 2, metrics });
  t.teardown(() => app.close());
  service.outage = 'throw';
  const thrown = await app.inject({ method: 'POST', url: '/allow', payload: { key: 'a' } });
  t.equal(thrown.statusCode, 503);
  t.equal(thrown.json().error, 'unavailable');
  t.equal(thrown.headers['retry-after'], '2');
  service.outage = 'hang';
  const hung = await app.inject({ method: 'POST', url: '/allow', payload: { key: 'a' } });
  t.equal(hung.statusCode, 503);
  t.equal(hung.json().error, 'unavailable');
  t.equal(hung.headers['retry-after'], '2');
  const text = await metrics.registry.metrics();
  t.match(text, /^drl_unavailable_total 2$/m);
});

t.test('a follower that knows no leader answers 503 unavailable', async (t) => {
  const service = new FakeService();
  service.follower = { leaderId: null, leaderHttp: null };
  const app = buildApi(service);
  t.teardown(() => app.close());
  const r = await app.inject({
    method: 'PUT',
    url: '/rules/x',
    payload: { limit: 1, windowMs: 1 },
  });
  t.equal(r.statusCode, 503);
  t.equal(r.json().error, 'unavailable');
  t.equal(r.headers['retry-after'], '1');
});

t.test('metrics: Prometheus text with decision counters and node-set gauges', async (t) => {
  const service = new FakeService({ rules: { default: { limit: 1, windowMs: 1000 } } });
  const metrics = createMetrics();
  const app = buildApi(service, { metrics });
  t.teardown(() => app.close());
  await app.inject({ method: 'POST', url: '/allow', payload: { key: 'a' } });
  await app.inject({ method: 'POST', url: '/allow', payload: { key: 'a' } });
  await app.inject({
    method: 'POST',
    url: '/allow',
    payload: { key: 'a', rule: 'x', limit: 1, windowMs: 5 },
  });
  metrics.raftTerm.set(7);
  metrics.fsyncDuration.observe(0.002);
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(r.headers['content-type'], /^text\/plain/);
  t.match(r.body, /^drl_decisions_total\{outcome="allowed",rule="default"\} 1$/m);
  t.match(r.body, /^drl_decisions_total\{outcome="denied",rule="default"\} 1$/m);
  t.match(r.body, /^drl_decisions_total\{outcome="allowed",rule="x"\} 1$/m);
  t.match(r.body, /^drl_decision_duration_seconds_count 3$/m);
  t.match(r.body, /^drl_raft_term 7$/m);
  t.match(r.body, /^drl_fsync_duration_seconds_count 1$/m);
  t.match(r.body, /^process_cpu_user_seconds_total /m);
});
