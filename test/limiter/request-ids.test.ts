// The exactly-once table: retention in command time, count bound, conflicts, no double count.
import t from 'tap';
import { createLimiter } from '../../src/limiter/index.js';

const T0 = 1_700_000_000_000;

t.test('a retry returns the first decision and counts nothing', async (t) => {
  const limiter = createLimiter();
  limiter.setRule(T0, 'default', { limit: 1, windowMs: 1000 });
  const first = limiter.apply({ type: 'allow', ts: T0, key: 'k', requestId: 'r' }, 7);
  const retry = limiter.apply({ type: 'allow', ts: T0 + 10, key: 'k', requestId: 'r' }, 8);
  t.same(first, {
    type: 'decision',
    decision: { allowed: true, limit: 1, remaining: 0, resetMs: 1000, retryAfterMs: 0 },
    duplicate: false,
  });
  t.same(retry, { ...first, duplicate: true, firstTs: T0, firstLogIndex: 7 }, 'names the first');
  t.equal(limiter.allow(T0 + 10, 'k').allowed, false, 'the first counted once: the window is full');
  t.equal(limiter.usage('default', 'k', T0 + 10).used, 1);
  const denied = limiter.apply({ type: 'allow', ts: T0 + 20, key: 'k', requestId: 'd' });
  limiter.apply({ type: 'tick', ts: T0 + 5000 });
  const deniedRetry = limiter.apply({ type: 'allow', ts: T0 + 5000, key: 'k', requestId: 'd' });
  t.same(
    deniedRetry,
    { ...denied, duplicate: true, firstTs: T0 + 20, firstLogIndex: undefined },
    'a denial is remembered too (no log index given, none kept)',
  );
});

t.test('same id with another body is a conflict and changes nothing', async (t) => {
  const limiter = createLimiter();
  limiter.setRule(T0, 'default', { limit: 5, windowMs: 1000 });
  limiter.allow(T0, 'k', 'default', 1, undefined, undefined, 'r');
  for (const [key, cost, limit, windowMs] of [
    ['k2', 1, undefined, undefined],
    ['k', 2, undefined, undefined],
    ['k', 1, 5, 1000],
  ] as const) {
    t.throws(() => limiter.allow(T0 + 1, key, 'default', cost, limit, windowMs, 'r'), {
      code: 'request_id_conflict',
    });
  }
  t.equal(limiter.usage('default', 'k', T0 + 1).used, 1);
  t.equal(limiter.usage('default', 'k2', T0 + 1).used, 0);
});

t.test('ids are remembered for the retention, then forgotten', async (t) => {
  const retention = 10 * 60 * 1000;
  const limiter = createLimiter();
  limiter.setRule(T0, 'default', { limit: 100, windowMs: 1000 });
  limiter.allow(T0, 'k', 'default', 1, undefined, undefined, 'r');
  limiter.allow(T0 + retention - 1, 'k', 'default', 1, undefined, undefined, 'r');
  t.equal(limiter.lastDuplicate, true, 'still remembered 1 ms before the retention ends');
  limiter.allow(T0 + retention, 'k', 'default', 1, undefined, undefined, 'r');
  t.equal(limiter.lastDuplicate, false, 'forgotten after 10 minutes: counted anew');
  // ...and a different body is then no conflict.
  limiter.allow(T0 + 3 * retention, 'other', 'default', 1, undefined, undefined, 'r');
  t.equal(limiter.lastDuplicate, false);
});

t.test('the table is bounded: oldest dropped first, expired ones swept', async (t) => {
  const limiter = createLimiter({ requestsMax: 3, requestRetentionMs: 1000 });
  limiter.setRule(T0, 'default', { limit: 100, windowMs: 1000 });
  for (const id of ['a', 'b', 'c', 'd'])
    limiter.allow(T0, 'k', 'default', 1, undefined, undefined, id);
  t.equal(limiter.requestCount, 3);
  limiter.allow(T0, 'k', 'default', 1, undefined, undefined, 'a');
  t.equal(limiter.lastDuplicate, false, '"a" was the oldest and was dropped');
  limiter.allow(T0, 'k', 'default', 1, undefined, undefined, 'd');
  t.equal(limiter.lastDuplicate, true, '"d" is still there');
  for (let i = 0; i < 64; i++) limiter.apply({ type: 'tick', ts: T0 + 1000 });
  t.equal(limiter.requestCount, 0, 'expired ids are swept by later commands');
});
