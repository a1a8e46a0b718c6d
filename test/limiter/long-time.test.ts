// Time far beyond 32-bit ms offsets: per-key rebases (a key busy for > 49 days) and store epoch
// moves (> 18 days of ts with 31-day windows) must not change any decision.
import t from 'tap';
import { runScript, type Step } from '../reference/engine-harness.js';

const DAY = 86_400_000;

t.test('a key busy for 100 days with a 10-day window (per-key rebase)', async (t) => {
  const steps: Step[] = [{ op: 'setRule', dt: 0, name: 'default', limit: 3, windowMs: 10 * DAY }];
  for (let i = 0; i < 60; i++) {
    steps.push({ op: 'allow', dt: Math.floor(1.7 * DAY), key: 'busy' });
    steps.push({ op: 'allow', dt: 0, key: 'busy', cost: 2 });
    steps.push({ op: 'allow', dt: 1, key: 'other' });
    if (i % 10 === 5) steps.push({ op: 'snapshot', how: 'codec', shuffle: i });
  }
  const result = runScript(steps);
  t.ok(result.ok, result.message);
});

t.test('31-day windows over a year (epoch moves), mixed windows, overrides', async (t) => {
  const steps: Step[] = [{ op: 'setRule', dt: 0, name: 'default', limit: 4, windowMs: 31 * DAY }];
  for (let i = 0; i < 120; i++) {
    const key = `k${i % 4}`;
    steps.push({ op: 'allow', dt: 3 * DAY + (i % 7) * 1000, key });
    if (i % 9 === 0)
      steps.push({
        op: 'setOverride',
        dt: 0,
        rule: 'default',
        key,
        limit: 2,
        windowMs: 2 * DAY + i,
      });
    if (i % 13 === 0) steps.push({ op: 'deleteOverride', dt: 0, rule: 'default', key });
    if (i % 17 === 0) steps.push({ op: 'allow', dt: 5, key, limit: 9, windowMs: 20 * DAY });
    if (i % 11 === 0)
      steps.push({ op: 'snapshot', how: i % 2 ? 'full' : 'incremental', shuffle: i });
    steps.push({ op: 'usage', dt: 0, rule: 'default', key });
  }
  const result = runScript(steps);
  t.ok(result.ok, result.message);
});
