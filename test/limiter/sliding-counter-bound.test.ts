// sliding-counter's stated error bound (docs/notes/limiter-engine.md): grants inside any aligned
// bucket never exceed the limit, any sliding window of windowMs holds at most 2 x limit, and a
// key idle for 2 x windowMs admits any cost up to the limit.
import fc from 'fast-check';
import t from 'tap';
import { createLimiter } from '../../src/limiter/index.js';

t.test('sliding-counter stays within its bound', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 2, max: 200 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 3 })), {
        minLength: 1,
        maxLength: 300,
      }),
      (limit, windowMs, steps) => {
        const limiter = createLimiter();
        limiter.setRule(0, 'default', { limit, windowMs, algorithm: 'sliding-counter' });
        const grants: Array<[number, number]> = [];
        let ts = 1000;
        let lastGrant = Number.NEGATIVE_INFINITY;
        for (const [dt, cost] of steps) {
          ts += dt;
          const d = limiter.allow(ts, 'k', 'default', cost);
          if (ts - lastGrant >= 2 * windowMs && cost <= limit && !d.allowed) return false;
          if (!d.allowed) continue;
          grants.push([ts, cost]);
          lastGrant = ts;
          const bucket = ts - (ts % windowMs);
          const inBucket = grants.filter(([g]) => g >= bucket).reduce((a, [, c]) => a + c, 0);
          const inWindow = grants.filter(([g]) => g > ts - windowMs).reduce((a, [, c]) => a + c, 0);
          if (inBucket > limit || inWindow > 2 * limit) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass('bound held');
});
