import t from 'tap';
import { buildApi } from '../../src/api/index.js';
import { FakeService } from './fake-service.js';

t.test('rules CRUD, overrides and usage', async (t) => {
  const service = new FakeService();
  const app = buildApi(service);
  t.teardown(() => app.close());

  const put = await app.inject({
    method: 'PUT',
    url: '/rules/api',
    payload: { limit: 3, windowMs: 1000 },
  });
  t.equal(put.statusCode, 200);
  t.same(put.json(), { ok: true, index: 1 });
  await app.inject({
    method: 'PUT',
    url: '/rules/tb',
    payload: { limit: 10, windowMs: 1000, algorithm: 'token-bucket', burst: 2 },
  });
  const list = await app.inject({ method: 'GET', url: '/rules' });
  t.same(list.json(), {
    rules: {
      api: { limit: 3, windowMs: 1000 },
      tb: { limit: 10, windowMs: 1000, algorithm: 'token-bucket', burst: 2 },
    },
  });
  const one = await app.inject({ method: 'GET', url: '/rules/tb' });
  t.same(one.json(), {
    name: 'tb',
    limit: 10,
    windowMs: 1000,
    algorithm: 'token-bucket',
    burst: 2,
  });
  const missing = await app.inject({ method: 'GET', url: '/rules/none' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().error, 'not_found');
  const proto = await app.inject({ method: 'GET', url: '/rules/constructor' });
  t.equal(proto.statusCode, 404, 'object prototype names are not rules');

  const key = 'user/ü 1';
  const ovUrl = `/rules/api/keys/${encodeURIComponent(key)}`;
  const ov = await app.inject({ method: 'PUT', url: ovUrl, payload: { limit: 1, windowMs: 1000 } });
  t.same(ov.json(), { ok: true, index: 3 });
  t.equal(service.overrides.get(`api\u0000${key}`)?.limit, 1, 'key is URL-decoded');
  await app.inject({ method: 'POST', url: '/allow', payload: { key, rule: 'api' } });
  const usage = await app.inject({ method: 'GET', url: `/keys/api/${encodeURIComponent(key)}` });
  t.same(usage.json(), { used: 1, limit: 1, remaining: 0, resetMs: 1000 });
  const usedBefore = service.calls.length;
  await app.inject({ method: 'GET', url: `/keys/api/${encodeURIComponent(key)}` });
  t.equal(service.calls.length, usedBefore, 'usage records no decision');

  const delOv = await app.inject({ method: 'DELETE', url: ovUrl });
  t.equal(delOv.statusCode, 200);
  const del = await app.inject({ method: 'DELETE', url: '/rules/api' });
  t.equal(del.statusCode, 200);
  const delAgain = await app.inject({ method: 'DELETE', url: '/rules/api' });
  t.equal(delAgain.statusCode, 404);
  t.equal(delAgain.json().error, 'not_found');
});

t.test('usage under an inline limit: ?limit=&windowMs= together, digits only', async (t) => {
  const service = new FakeService();
  const app = buildApi(service);
  t.teardown(() => app.close());
  const inline = { key: 'k', limit: 5, windowMs: 1000 };
  await app.inject({ method: 'POST', url: '/allow', payload: inline });
  await app.inject({ method: 'POST', url: '/allow', payload: inline });
  const get = (query: string) => app.inject({ method: 'GET', url: `/keys/default/k${query}` });
  const usage = await get('?limit=5&windowMs=1000');
  t.same(usage.json(), { used: 2, limit: 5, remaining: 3, resetMs: 1000 });
  const noRule = await get('');
  t.equal(
    noRule.json().error,
    'unknown_rule',
    'without the inline limit: the rule, and there is none',
  );
  for (const query of [
    '?limit=5',
    '?windowMs=1000',
    '?limit=0&windowMs=1000',
    '?limit=x&windowMs=1',
  ]) {
    const bad = await get(query);
    t.equal(bad.statusCode, 400, query);
    t.match(bad.json(), { error: String, message: String }, query);
  }
});

t.test('a 512-byte key percent-encoded in the path is accepted, 513 bytes is not', async (t) => {
  const service = new FakeService({ rules: { default: { limit: 1, windowMs: 10 } } });
  const app = buildApi(service);
  t.teardown(() => app.close());
  const ok = await app.inject({
    method: 'GET',
    url: `/keys/default/${encodeURIComponent('é'.repeat(256))}`,
  });
  t.equal(ok.statusCode, 200);
  const long = await app.inject({
    method: 'GET',
    url: `/keys/default/${encodeURIComponent('é'.repeat(256))}x`,
  });
  t.equal(long.statusCode, 400);
  t.equal(long.json().error, 'invalid_key');
});

t.test('cluster status, membership and leadership transfer', async (t) => {
  const service = new FakeService();
  const app = buildApi(service);
  t.teardown(() => app.close());
  const add = await app.inject({
    method: 'POST',
    url: '/cluster/members',
    payload: { id: 'n2', raft: '127.0.0.1:9002', http: '127.0.0.1:8002' },
  });
  t.same(add.json(), { ok: true, index: 1 });
  const status = await app.inject({ method: 'GET', url: '/cluster' });
  t.same(status.json(), {
    id: 'n1',
    role: 'leader',
    term: 3,
    leader: 'n1',
    commitIndex: 1,
    appliedIndex: 1,
    members: [
      { id: 'n1', raft: '127.0.0.1:9001', http: '127.0.0.1:8001' },
      { id: 'n2', raft: '127.0.0.1:9002', http: '127.0.0.1:8002' },
    ],
  });
  const bad = await app.inject({
    method: 'POST',
    url: '/cluster/members',
    payload: { id: 'n3', raft: 'nope' },
  });
  t.equal(bad.statusCode, 400);
  const transfer = await app.inject({
    method: 'POST',
    url: '/cluster/leader',
    payload: { to: 'n2' },
  });
  t.same(transfer.json(), { ok: true, leader: 'n2' });
  t.equal(service.leaderId, 'n2');
  const remove = await app.inject({ method: 'DELETE', url: '/cluster/members/n2' });
  t.equal(remove.statusCode, 200);
  t.equal(service.members.length, 1);
  const removeAgain = await app.inject({ method: 'DELETE', url: '/cluster/members/n2' });
  t.equal(removeAgain.json().error, 'not_found');
});
