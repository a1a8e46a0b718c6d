// Eviction is driven by command ts, a bounded amount of work per command, and never changes a
// decision: once every window has expired the key count falls to 0.
import t from 'tap';
import { type Algorithm, createLimiter, SWEEP_SLOTS_PER_COMMAND } from '../../src/limiter/index.js';

const T0 = 1_700_000_000_000;
const KEYS = 2000;

for (const algorithm of ['sliding-log', 'sliding-counter', 'token-bucket'] as Algorithm[]) {
  t.test(`${algorithm}: expired keys are evicted, a bounded number per command`, async (t) => {
    const limiter = createLimiter();
    limiter.setRule(T0, 'default', { limit: 3, windowMs: 100, algorithm });
    limiter.setRule(T0, 'other', { limit: 3, windowMs: 50, algorithm });
    for (let i = 0; i < KEYS; i++) limiter.allow(T0, `k${i}`, i % 2 === 0 ? 'default' : 'other');
    t.equal(limiter.keyCount, KEYS);
    // Live keys are never evicted.
    for (let i = 0; i < 100; i++) limiter.apply({ type: 'tick', ts: T0 + 10 });
    t.equal(limiter.keyCount, KEYS, 'nothing evicted while windows are live');
    // Far past every window: the sweep frees at most SWEEP_SLOTS_PER_COMMAND keys per command.
    const later = T0 + 1_000_000;
    let commands = 0;
    let previous = limiter.keyCount;
    while (limiter.keyCount > 0 && commands < KEYS * 4) {
      limiter.apply({ type: 'tick', ts: later });
      commands++;
      if (commands % 8 === 0) {
        t.ok(
          previous - limiter.keyCount <= 8 * SWEEP_SLOTS_PER_COMMAND,
          'bounded work per command',
        );
        previous = limiter.keyCount;
      }
    }
    t.equal(limiter.keyCount, 0, 'every key evicted');
    t.ok(commands <= KEYS / SWEEP_SLOTS_PER_COMMAND + 64, `took ${commands} commands`);
    // Eviction changed no decision: a fresh key and an evicted key answer alike.
    t.same(limiter.allow(later, 'k0'), limiter.allow(later, 'never-seen'));
  });
}

t.test('evicting a key in the middle of a burst changes nothing (ms windows)', async (t) => {
  const a = createLimiter();
  const b = createLimiter();
  for (const l of [a, b]) l.setRule(0, 'default', { limit: 2, windowMs: 3 });
  const mismatches: string[] = [];
  for (let ts = 0; ts < 3000; ts++) {
    const key = `k${ts % 5}`;
    // b sees many extra ticks, so its sweep runs far more often than a's.
    for (let i = 0; i < 20; i++) b.apply({ type: 'tick', ts });
    const [da, db] = [JSON.stringify(a.allow(ts, key)), JSON.stringify(b.allow(ts, key))];
    if (da !== db) mismatches.push(`${ts}: ${da} vs ${db}`);
  }
  t.same(mismatches, [], 'same decisions');
  t.ok(b.keyCount <= a.keyCount);
});
