import t from 'tap';
import { buildApi } from '../../src/api/index.js';
import { FakeService } from './fake-service.js';

function setup(t: { teardown(fn: () => unknown): void }) {
  const service = new FakeService({ rules: { default: { limit: 2, windowMs: 1500 } } });
  const app = buildApi(service);
  t.teardown(() => app.close());
  const allow = (payload: object) => app.inject({ method: 'POST', url: '/allow', payload });
  return { service, app, allow };
}

t.test('allowed decisions carry the contract body and rate-limit headers', async (t) => {
  const { allow } = setup(t);
  const r = await allow({ key: 'alice' });
  t.equal(r.statusCode, 200);
  t.same(r.json(), {
    allowed: true,
    limit: 2,
    remaining: 1,
    resetMs: 1500,
    retryAfterMs: 0,
    index: 1,
    ts: 1_700_000_000_000,
  });
  t.equal(r.headers['ratelimit-policy'], '"default";q=2;w=2');
  t.equal(r.headers.ratelimit, '"default";r=1;t=2');
  t.equal(r.headers['ratelimit-limit'], '2');
  t.equal(r.headers['ratelimit-remaining'], '1');
  t.equal(r.headers['ratelimit-reset'], '2');
  t.equal(r.headers['retry-after'], undefined, 'no Retry-After when allowed');
  t.notOk('windowMs' in r.json(), 'response schema drops fields outside the contract');
});

t.test('a denial is 200 allowed:false with Retry-After in whole seconds rounded up', async (t) => {
  const { allow, service } = setup(t);
  await allow({ key: 'bob' });
  service.nowMs += 300;
  await allow({ key: 'bob' });
  const r = await allow({ key: 'bob' });
  t.equal(r.statusCode, 200);
  t.equal(r.json().allowed, false);
  t.equal(r.json().retryAfterMs, 1200);
  t.equal(r.headers['retry-after'], '2');
  t.equal(r.headers['ratelimit-remaining'], '0');
});

t.test('a denial whose cost can never fit has no Retry-After', async (t) => {
  const { allow } = setup(t);
  const r = await allow({ key: 'carol', cost: 5 });
  t.equal(r.json().allowed, false);
  t.equal(r.json().retryAfterMs, null);
  t.equal(r.headers['retry-after'], undefined);
});

t.test('inline limits, cost and requestId reach the service', async (t) => {
  const { allow, service } = setup(t);
  const r = await allow({
    key: 'k',
    rule: 'api',
    limit: 5,
    windowMs: 60_000,
    cost: 3,
    requestId: 'r1',
  });
  t.equal(r.json().remaining, 2);
  t.equal(r.headers['ratelimit-policy'], '"api";q=5;w=60');
  t.same(service.calls.at(-1), {
    key: 'k',
    rule: 'api',
    limit: 5,
    windowMs: 60_000,
    cost: 3,
    requestId: 'r1',
  });
  const again = await allow({
    key: 'k',
    rule: 'api',
    limit: 5,
    windowMs: 60_000,
    cost: 3,
    requestId: 'r1',
  });
  t.same(again.json(), r.json(), 'a retry returns the first decision');
  const conflict = await allow({
    key: 'k',
    rule: 'api',
    limit: 5,
    windowMs: 60_000,
    cost: 1,
    requestId: 'r1',
  });
  t.equal(conflict.statusCode, 409);
  t.equal(conflict.json().error, 'request_id_conflict');
});

t.test('a key of exactly 512 UTF-8 bytes is accepted', async (t) => {
  const { allow } = setup(t);
  t.equal((await allow({ key: 'é'.repeat(256) })).statusCode, 200);
  t.equal((await allow({ key: 'k'.repeat(512) })).statusCode, 200);
});

t.test('policy names with quotes are escaped as sf-strings', async (t) => {
  const { allow } = setup(t);
  const r = await allow({ key: 'x', rule: 'a"b', limit: 1, windowMs: 1000 });
  t.equal(r.headers['ratelimit-policy'], '"a\\"b";q=1;w=1');
});
