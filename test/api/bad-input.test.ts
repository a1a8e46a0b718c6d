import t from 'tap';
import { buildApi } from '../../src/api/index.js';
import { FakeService } from './fake-service.js';

const service = new FakeService({ rules: { default: { limit: 5, windowMs: 1000 } } });
const app = buildApi(service);
t.teardown(() => app.close());

const cases: Array<[string, unknown, string]> = [
  ['empty key', { key: '' }, 'invalid_key'],
  ['missing key', { rule: 'default' }, 'invalid_key'],
  ['numeric key', { key: 5 }, 'invalid_key'],
  ['key over 512 characters', { key: 'k'.repeat(513) }, 'invalid_key'],
  ['key over 512 bytes', { key: 'é'.repeat(257) }, 'invalid_key'],
  ['cost zero', { key: 'a', cost: 0 }, 'invalid_cost'],
  ['fractional cost', { key: 'a', cost: 1.5 }, 'invalid_cost'],
  ['string cost', { key: 'a', cost: '2' }, 'invalid_cost'],
  ['limit without windowMs', { key: 'a', limit: 3 }, 'invalid_window'],
  ['windowMs without limit', { key: 'a', windowMs: 3 }, 'invalid_limit'],
  ['negative limit', { key: 'a', limit: -1, windowMs: 10 }, 'invalid_limit'],
  ['zero window', { key: 'a', limit: 1, windowMs: 0 }, 'invalid_window'],
  ['empty rule', { key: 'a', rule: '' }, 'invalid_rule'],
  ['empty requestId', { key: 'a', requestId: '' }, 'invalid_request_id'],
  ['requestId over 128 bytes', { key: 'a', requestId: 'ü'.repeat(65) }, 'invalid_request_id'],
  ['array body', [1, 2], 'invalid_body'],
];

for (const [name, payload, code] of cases) {
  t.test(`${name} -> 400 ${code}, nothing applied`, async (t) => {
    const before = service.calls.length;
    const r = await app.inject({ method: 'POST', url: '/allow', payload: payload as object });
    t.equal(r.statusCode, 400);
    t.equal(r.json().error, code);
    t.type(r.json().message, 'string');
    t.equal(service.calls.length, before);
  });
}

t.test('malformed JSON and missing body -> 400 invalid_body', async (t) => {
  const bad = await app.inject({
    method: 'POST',
    url: '/allow',
    payload: '{"key":',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().error, 'invalid_body');
  const none = await app.inject({ method: 'POST', url: '/allow' });
  t.equal(none.statusCode, 400);
  t.equal(none.json().error, 'invalid_body');
  const text = await app.inject({
    method: 'POST',
    url: '/allow',
    payload: 'key=a',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(text.statusCode, 400);
  t.equal(text.json().error, 'invalid_body');
});

t.test('a body over 16 KiB -> 413 body_too_large', async (t) => {
  const r = await app.inject({
    method: 'POST',
    url: '/allow',
    payload: { key: 'a', pad: 'x'.repeat(17_000) },
  });
  t.equal(r.statusCode, 413);
  t.same(r.json(), { error: 'body_too_large', message: 'request body exceeds 16 KiB' });
});

t.test('unknown rule from the service -> 400 unknown_rule', async (t) => {
  const r = await app.inject({
    method: 'POST',
    url: '/allow',
    payload: { key: 'a', rule: 'nope' },
  });
  t.equal(r.statusCode, 400);
  t.equal(r.json().error, 'unknown_rule');
});

t.test('unknown route -> 404 not_found in the error shape', async (t) => {
  const r = await app.inject({ method: 'GET', url: '/nope' });
  t.equal(r.statusCode, 404);
  t.equal(r.json().error, 'not_found');
});

t.test('rule bodies map to their field codes', async (t) => {
  const put = (payload: object) => app.inject({ method: 'PUT', url: '/rules/r1', payload });
  t.equal((await put({ limit: 0, windowMs: 10 })).json().error, 'invalid_limit');
  t.equal((await put({ limit: 1 })).json().error, 'invalid_window');
  t.equal(
    (await put({ limit: 1, windowMs: 10, algorithm: 'fixed' })).json().error,
    'invalid_algorithm',
  );
  t.equal((await put({ limit: 1, windowMs: 10, burst: -1 })).json().error, 'invalid_burst');
});
