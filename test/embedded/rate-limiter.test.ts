import t from 'tap';
import { RateLimiter } from '../../src/embedded/index.js';
import { DrlError } from '../../src/errors.js';

const rules = { default: { limit: 3, windowMs: 60_000 } };

t.test('allow grants up to the limit, then denies', async (t) => {
  const limiter = new RateLimiter({ rules });
  t.same(
    [1, 2, 3, 4].map(() => limiter.allow('user:1')),
    [true, true, true, false],
  );
  t.equal(limiter.allow('user:2'), true, 'state is per key');
  limiter.close();
});

t.test('check decides and records exactly like allow', async (t) => {
  const limiter = new RateLimiter({ rules });
  const first = limiter.check('k');
  t.same(Object.keys(first).sort(), ['allowed', 'limit', 'remaining', 'resetMs', 'retryAfterMs']);
  t.match(first, { allowed: true, limit: 3, remaining: 2, retryAfterMs: 0 });
  t.ok(first.resetMs > 0 && first.resetMs <= 60_000);
  t.match(limiter.check('k'), { allowed: true, remaining: 1 });
  t.equal(limiter.allow('k'), true);
  const denied = limiter.check('k');
  t.match(denied, { allowed: false, limit: 3, remaining: 0 });
  t.ok(denied.retryAfterMs !== null && denied.retryAfterMs >= 1 && denied.retryAfterMs <= 60_000);
  t.match(limiter.check('k', { cost: 4 }), { allowed: false, retryAfterMs: null }, 'cost > limit');
  limiter.close();
});

t.test('usage reads a window without recording or writing', async (t) => {
  const limiter = new RateLimiter({ rules: { ...rules, api: { limit: 1, windowMs: 1000 } } });
  t.same(limiter.usage('k'), { used: 0, limit: 3, remaining: 3, resetMs: 0 });
  limiter.allow('k');
  limiter.allow('k', { cost: 2 });
  const u = limiter.usage('k');
  t.match(u, { used: 3, limit: 3, remaining: 0 });
  t.ok(u.resetMs > 0 && u.resetMs <= 60_000, `resetMs ${u.resetMs}`);
  t.match(limiter.usage('k'), { used: 3 }, 'reading twice counts nothing');
  t.match(limiter.usage('k', { rule: 'api' }), { used: 0, limit: 1 }, 'per rule');
  limiter.allow('in', { limit: 5, windowMs: 1000 });
  t.match(limiter.usage('in', { limit: 5, windowMs: 1000 }), { used: 1, limit: 5, remaining: 4 });
  t.throws(() => limiter.usage('k', { rule: 'nope' }), { code: 'unknown_rule' });
  t.throws(() => limiter.usage('k', { limit: 5 }), { code: 'invalid_window' });
  t.throws(() => limiter.usage('', {}), { code: 'invalid_key' });
  t.throws(() => limiter.usage('k', 5 as never), { code: 'invalid_argument' });
  limiter.close();
  t.throws(() => limiter.usage('k'), { code: 'closed' });
});

t.test('options: rule, inline limit, cost', async (t) => {
  const limiter = new RateLimiter({ rules: { ...rules, api: { limit: 1, windowMs: 1000 } } });
  t.equal(limiter.allow('a', { rule: 'api' }), true);
  t.equal(limiter.allow('a', { rule: 'api' }), false);
  t.equal(limiter.allow('a'), true, 'the default rule keeps its own window');
  t.match(limiter.check('b', { cost: 2 }), { allowed: true, remaining: 1 });
  t.match(limiter.check('b', { cost: 2 }), { allowed: false, remaining: 1 });
  t.match(limiter.check('c', { limit: 10, windowMs: 1000, cost: 4 }), {
    allowed: true,
    limit: 10,
    remaining: 6,
  });
  limiter.close();
});

t.test('without a default rule, an allow needs a rule or an inline limit', async (t) => {
  const limiter = new RateLimiter();
  t.throws(() => limiter.allow('k'), { code: 'unknown_rule' });
  t.equal(limiter.allow('k', { limit: 1, windowMs: 1000 }), true);
  t.equal(limiter.allow('k', { limit: 1, windowMs: 1000 }), false);
  limiter.close();
});

t.test('setRule, setOverride, deleteRule', async (t) => {
  const limiter = new RateLimiter();
  limiter.setRule('default', { limit: 1, windowMs: 60_000 });
  limiter.setOverride('default', 'vip', { limit: 2, windowMs: 60_000 });
  t.same(
    [1, 2, 3].map(() => limiter.allow('vip')),
    [true, true, false],
    'the override beats the rule',
  );
  t.same(
    [1, 2].map(() => limiter.allow('plain')),
    [true, false],
  );
  limiter.setRule('default', { limit: 5, windowMs: 60_000 });
  t.match(limiter.check('plain'), { allowed: true, limit: 5, remaining: 3 }, 'grants carry over');
  limiter.setRule('bucket', { limit: 2, windowMs: 1000, algorithm: 'token-bucket', burst: 1 });
  t.equal(limiter.allow('x', { rule: 'bucket' }), true);
  limiter.deleteRule('default');
  t.throws(() => limiter.allow('plain'), { code: 'unknown_rule' });
  limiter.close();
});

t.test('every error is a DrlError with a stable code and changes nothing', async (t) => {
  const limiter = new RateLimiter({ rules });
  t.equal(limiter.allow('k'), true);
  const bad: Array<[string, () => unknown, string]> = [
    ['empty key', () => limiter.allow(''), 'invalid_key'],
    ['non-string key', () => limiter.allow(42 as unknown as string), 'invalid_key'],
    ['zero cost', () => limiter.allow('k', { cost: 0 }), 'invalid_cost'],
    ['fractional cost', () => limiter.check('k', { cost: 1.5 }), 'invalid_cost'],
    ['limit alone', () => limiter.allow('k', { limit: 5 }), 'invalid_window'],
    ['windowMs alone', () => limiter.allow('k', { windowMs: 5 }), 'invalid_limit'],
    ['unknown rule', () => limiter.allow('k', { rule: 'nope' }), 'unknown_rule'],
    ['options not an object', () => limiter.allow('k', 5 as never), 'invalid_argument'],
    [
      'bad rule limit',
      () => limiter.setRule('default', { limit: 0, windowMs: 1 }),
      'invalid_limit',
    ],
    [
      'bad algorithm',
      () => limiter.setRule('default', { limit: 1, windowMs: 1, algorithm: 'x' as never }),
      'invalid_algorithm',
    ],
    ['rule not an object', () => limiter.setRule('default', null as never), 'invalid_argument'],
    [
      'bad override',
      () => limiter.setOverride('default', 'k', { limit: 1, windowMs: -1 }),
      'invalid_window',
    ],
    ['bad override key', () => limiter.setOverride('default', '', rules.default), 'invalid_key'],
  ];
  for (const [what, call, code] of bad) {
    const err = t.throws(call, what) as unknown;
    t.ok(err instanceof DrlError, `${what}: a DrlError`);
    t.equal((err as DrlError).code, code, `${what}: ${code}`);
  }
  t.match(limiter.check('k'), { allowed: true, limit: 3, remaining: 1 }, 'nothing was applied');
  limiter.close();
});

t.test('constructor options are checked', async (t) => {
  t.throws(() => new RateLimiter({ path: '' }), { code: 'invalid_argument' });
  t.throws(() => new RateLimiter({ durability: 'always' as never }), { code: 'invalid_argument' });
  t.throws(() => new RateLimiter({ rules: 3 as never }), { code: 'invalid_argument' });
  t.throws(() => new RateLimiter({ rules: { r: { limit: -1, windowMs: 1 } } }), {
    code: 'invalid_limit',
  });
  t.throws(() => new RateLimiter({ snapshotEveryCommands: 0 }), { code: 'invalid_argument' });
  t.throws(() => new RateLimiter('x' as never), { code: 'invalid_argument' });
});

t.test('after close every call throws closed; close is idempotent', async (t) => {
  const limiter = new RateLimiter({ rules });
  limiter.close();
  limiter.close();
  const calls: Array<() => unknown> = [
    () => limiter.allow('k'),
    () => limiter.check('k'),
    () => limiter.setRule('r', { limit: 1, windowMs: 1 }),
    () => limiter.deleteRule('default'),
    () => limiter.setOverride('default', 'k', { limit: 1, windowMs: 1 }),
    () => limiter.deleteOverride('default', 'k'),
  ];
  for (const call of calls) t.throws(call, { code: 'closed' });
});

t.test('synchronous calls are atomic with respect to async callers', async (t) => {
  const limiter = new RateLimiter({ rules: { default: { limit: 50, windowMs: 60_000 } } });
  const results = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      await new Promise((resolve) => setImmediate(resolve));
      return limiter.allow(i % 2 === 0 ? 'even' : 'odd');
    }),
  );
  t.equal(results.filter(Boolean).length, 100, 'exactly the limit granted per key');
  limiter.close();
});
