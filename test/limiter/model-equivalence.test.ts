// Property tests: the engine against the naive reference model, one algorithm family at a time
// (rule changes mid-window, overrides, inline limits, requestIds, eviction and snapshot/restore
// at random points included). Every decision field must match exactly.
import fc from 'fast-check';
import t from 'tap';
import { runScript, scriptArb } from '../reference/engine-harness.js';

const RUNS = Number(process.env.DRL_PROPERTY_RUNS ?? 200);

for (const algorithms of [
  ['sliding-log'],
  ['sliding-counter'],
  ['token-bucket'],
  ['sliding-log', 'sliding-counter', 'token-bucket'],
] as const) {
  t.test(`engine matches the reference model: ${algorithms.join(' + ')}`, async (t) => {
    fc.assert(
      fc.property(scriptArb([...algorithms]), (steps) => {
        const result = runScript(steps);
        if (!result.ok) throw new Error(result.message);
      }),
      { numRuns: RUNS },
    );
    t.pass('no disagreement');
  });
}
