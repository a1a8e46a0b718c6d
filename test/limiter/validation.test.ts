// Every validation error: a typed DrlError with its code, and no state changed.
import t from 'tap';
import { DrlError } from '../../src/errors.js';
import { type Command, createLimiter, type Limiter } from '../../src/limiter/index.js';

const T0 = 1_700_000_000_000;

function fresh(): Limiter {
  const limiter = createLimiter();
  limiter.apply({ type: 'setRule', ts: T0, name: 'default', spec: { limit: 2, windowMs: 1000 } });
  limiter.apply({
    type: 'setRule',
    ts: T0,
    name: 'tb',
    spec: { limit: 5, windowMs: 1000, algorithm: 'token-bucket', burst: 2 },
  });
  limiter.apply({ type: 'allow', ts: T0 + 1, key: 'k', requestId: 'id-1' });
  return limiter;
}

function state(limiter: Limiter): string {
  return JSON.stringify([...limiter.records()], (_k, v) => (v instanceof Uint8Array ? [...v] : v));
}

const at = T0 + 5;
const cases: Array<[string, Command | Record<string, unknown>, string]> = [
  ['empty key', { type: 'allow', ts: at, key: '' }, 'invalid_key'],
  ['key of 513 bytes', { type: 'allow', ts: at, key: 'x'.repeat(513) }, 'invalid_key'],
  ['key of 514 bytes in 257 chars', { type: 'allow', ts: at, key: 'é'.repeat(257) }, 'invalid_key'],
  ['key with a lone high surrogate', { type: 'allow', ts: at, key: 'a\uD800' }, 'invalid_key'],
  ['key with a lone low surrogate', { type: 'allow', ts: at, key: '\uDC00b' }, 'invalid_key'],
  ['key not a string', { type: 'allow', ts: at, key: 5 }, 'invalid_key'],
  ['cost 0', { type: 'allow', ts: at, key: 'k', cost: 0 }, 'invalid_cost'],
  ['cost 1.5', { type: 'allow', ts: at, key: 'k', cost: 1.5 }, 'invalid_cost'],
  ['cost -1', { type: 'allow', ts: at, key: 'k', cost: -1 }, 'invalid_cost'],
  ['cost above 1e9', { type: 'allow', ts: at, key: 'k', cost: 1e9 + 1 }, 'invalid_cost'],
  ['unknown rule', { type: 'allow', ts: at, key: 'k', rule: 'nope' }, 'unknown_rule'],
  ['rule name empty', { type: 'allow', ts: at, key: 'k', rule: '' }, 'invalid_rule'],
  ['inline limit alone', { type: 'allow', ts: at, key: 'k', limit: 5 }, 'invalid_window'],
  ['inline window alone', { type: 'allow', ts: at, key: 'k', windowMs: 5 }, 'invalid_limit'],
  ['inline limit 0', { type: 'allow', ts: at, key: 'k', limit: 0, windowMs: 5 }, 'invalid_limit'],
  [
    'inline limit NaN',
    { type: 'allow', ts: at, key: 'k', limit: Number.NaN, windowMs: 5 },
    'invalid_limit',
  ],
  [
    'inline limit as string',
    { type: 'allow', ts: at, key: 'k', limit: '5', windowMs: 5 },
    'invalid_limit',
  ],
  ['inline window 0', { type: 'allow', ts: at, key: 'k', limit: 1, windowMs: 0 }, 'invalid_window'],
  [
    'inline window > 31 days',
    { type: 'allow', ts: at, key: 'k', limit: 1, windowMs: 32 * 86_400_000 },
    'invalid_window',
  ],
  ['requestId empty', { type: 'allow', ts: at, key: 'k', requestId: '' }, 'invalid_request_id'],
  [
    'requestId of 129 bytes',
    { type: 'allow', ts: at, key: 'k', requestId: 'r'.repeat(129) },
    'invalid_request_id',
  ],
  [
    'requestId lone surrogate',
    { type: 'allow', ts: at, key: 'k', requestId: '\uD800' },
    'invalid_request_id',
  ],
  [
    'requestId reused with another body',
    { type: 'allow', ts: at, key: 'other', requestId: 'id-1' },
    'request_id_conflict',
  ],
  ['ts going backwards', { type: 'allow', ts: T0, key: 'k' }, 'internal'],
  ['ts not an integer', { type: 'allow', ts: at + 0.5, key: 'k' }, 'invalid_argument'],
  ['unknown command', { type: 'frobnicate', ts: at }, 'invalid_argument'],
  [
    'rule limit above 1e9',
    { type: 'setRule', ts: at, name: 'r', spec: { limit: 1e9 + 1, windowMs: 1 } },
    'invalid_limit',
  ],
  [
    'rule window negative',
    { type: 'setRule', ts: at, name: 'r', spec: { limit: 1, windowMs: -1 } },
    'invalid_window',
  ],
  [
    'rule unknown algorithm',
    { type: 'setRule', ts: at, name: 'r', spec: { limit: 1, windowMs: 1, algorithm: 'leaky' } },
    'invalid_algorithm',
  ],
  [
    'rule burst negative',
    {
      type: 'setRule',
      ts: at,
      name: 'r',
      spec: { limit: 1, windowMs: 1, algorithm: 'token-bucket', burst: -1 },
    },
    'invalid_burst',
  ],
  [
    'rule burst without token-bucket',
    { type: 'setRule', ts: at, name: 'r', spec: { limit: 1, windowMs: 1, burst: 2 } },
    'invalid_burst',
  ],
  [
    'token-bucket product too big',
    {
      type: 'setRule',
      ts: at,
      name: 'r',
      spec: { limit: 1e9, windowMs: 31 * 86_400_000, algorithm: 'token-bucket' },
    },
    'invalid_burst',
  ],
  [
    'rule name of 129 bytes',
    { type: 'setRule', ts: at, name: 'n'.repeat(129), spec: { limit: 1, windowMs: 1 } },
    'invalid_rule',
  ],
  ['rule spec missing', { type: 'setRule', ts: at, name: 'r' }, 'invalid_argument'],
  ['delete unknown rule', { type: 'deleteRule', ts: at, name: 'nope' }, 'unknown_rule'],
  [
    'override on unknown rule',
    { type: 'setOverride', ts: at, rule: 'nope', key: 'k', spec: { limit: 1, windowMs: 1 } },
    'unknown_rule',
  ],
  [
    'override with bad key',
    { type: 'setOverride', ts: at, rule: 'default', key: '', spec: { limit: 1, windowMs: 1 } },
    'invalid_key',
  ],
  [
    'override limit 0',
    { type: 'setOverride', ts: at, rule: 'default', key: 'k', spec: { limit: 0, windowMs: 1 } },
    'invalid_limit',
  ],
  [
    'token-bucket override too big',
    {
      type: 'setOverride',
      ts: at,
      rule: 'tb',
      key: 'k',
      spec: { limit: 1e9, windowMs: 31 * 86_400_000 },
    },
    'invalid_burst',
  ],
  [
    'delete override of unknown rule',
    { type: 'deleteOverride', ts: at, rule: 'nope', key: 'k' },
    'unknown_rule',
  ],
];

for (const [name, command, code] of cases) {
  t.test(name, async (t) => {
    const limiter = fresh();
    const before = state(limiter);
    const lastTs = limiter.lastTs;
    let caught: unknown;
    try {
      limiter.apply(command as Command);
    } catch (error) {
      caught = error;
    }
    t.ok(caught instanceof DrlError, 'a DrlError');
    t.equal((caught as DrlError).code, code);
    t.ok((caught as DrlError).message.length > 0, 'with a message');
    t.equal(state(limiter), before, 'no state changed');
    t.equal(limiter.lastTs, lastTs, 'lastTs unchanged');
  });
}

t.test('the fast path validates like apply', async (t) => {
  const limiter = fresh();
  const before = state(limiter);
  t.throws(() => limiter.allow(at, ''), { code: 'invalid_key' });
  t.throws(() => limiter.allow(at, 'k', 'default', 0), { code: 'invalid_cost' });
  t.throws(() => limiter.allow(at, 'k', 'nope'), { code: 'unknown_rule' });
  t.throws(() => limiter.allow(at, 'k', 'default', 1, 3), { code: 'invalid_window' });
  t.equal(state(limiter), before);
});

t.test('evaluate and usage validate and change nothing', async (t) => {
  const limiter = fresh();
  const before = state(limiter);
  t.throws(() => limiter.evaluate({ type: 'allow', ts: at, key: '' }), { code: 'invalid_key' });
  t.throws(() => limiter.usage('nope', 'k', at), { code: 'unknown_rule' });
  const d = limiter.evaluate({ type: 'allow', ts: at, key: 'k' });
  t.same(d, { allowed: true, limit: 2, remaining: 0, resetMs: 1000, retryAfterMs: 0 });
  t.same(limiter.usage('default', 'k', at), { used: 1, limit: 2, remaining: 1, resetMs: 996 });
  t.equal(state(limiter), before, 'dry runs record nothing');
});

t.test('a key of exactly 512 bytes and a 128-byte requestId are accepted', async (t) => {
  const limiter = fresh();
  t.equal(limiter.allow(at, 'é'.repeat(256)).allowed, true);
  t.equal(
    limiter.allow(at, 'x'.repeat(512), 'default', 1, undefined, undefined, 'r'.repeat(128)).allowed,
    true,
  );
  t.equal(limiter.allow(at, '😀'.repeat(128)).allowed, true, '128 astral chars = 512 bytes');
  t.throws(() => limiter.allow(at, `${'😀'.repeat(128)}x`), { code: 'invalid_key' });
});
