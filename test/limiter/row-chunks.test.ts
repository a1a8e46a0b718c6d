// Row chunks of the key index under the sliding-log store: keys are added past the chunk
// boundaries (1024, 2048, 4096, 8192 slots), granted, denied, expired, evicted and their slots
// reused, with seeded random costs and gaps; every decision must match the reference model, and
// a snapshot taken past the last boundary must restore to the same decisions.
import t from 'tap';
import { Rng } from '../../jepsen-lite/gen/rng.js';
import { createLimiter, type Limiter } from '../../src/limiter/index.js';
import { FIRST_CHUNK_SLOTS } from '../../src/limiter/key-index.js';
import { LimiterModel } from '../reference/limiter-model.js';

const T0 = 1_700_000_000_000;
const OPTIONS = { requestRetentionMs: 1000, requestsMax: 16 };
const LIMIT = 6;
/** Long enough that phase 1's keys all stay live (about 40 s of command time per phase). */
const WINDOW_MS = 100_000;

function mismatch(engine: Limiter, model: LimiterModel, ts: number, key: string, cost: number) {
  const got = JSON.stringify(engine.allow(ts, key, 'default', cost));
  const want = JSON.stringify(model.allow(ts, key, 'default', cost)[0]);
  return got === want ? undefined : `ts ${ts - T0} ${key} cost ${cost}: ${got} vs model ${want}`;
}

t.test(
  'keys across row-chunk boundaries decide as the model, with slots freed and reused',
  async (t) => {
    t.equal(FIRST_CHUNK_SLOTS, 1024, 'the boundaries this test crosses');
    const keysMax = FIRST_CHUNK_SLOTS * 8 + 300;
    for (const seed of [7, 8]) {
      const seeded = new Rng(seed); // a failure replays from its seed
      const random = () => seeded.next();
      const engine = createLimiter(OPTIONS);
      const model = new LimiterModel(OPTIONS);
      engine.setRule(T0, 'default', { limit: LIMIT, windowMs: WINDOW_MS });
      model.setRule(T0, 'default', { limit: LIMIT, windowMs: WINDOW_MS });
      const bad: string[] = [];
      let ts = T0;
      let peakKeys = 0;
      // Phase 1 adds keys in order (each new one takes the next slot, crossing every boundary)
      // among repeats of recent keys; phase 2, after a gap that expires everything, adds keys again
      // while the sweep frees the old ones, so new keys land in recycled slots of every chunk.
      for (const phase of [1, 2]) {
        let next = 0;
        for (let step = 0; step < 40_000; step++) {
          const roll = random();
          const i =
            roll < 0.3 && next < keysMax
              ? next++
              : Math.floor(random() * Math.max(1, Math.min(next, keysMax)));
          const cost = random() < 0.85 ? 1 : 1 + Math.floor(random() * 3);
          ts += random() < 0.01 ? Math.floor(random() * 200) : random() < 0.3 ? 1 : 0;
          const key = phase === 1 ? `k${i}` : `p${i}`;
          const why = mismatch(engine, model, ts, key, cost);
          if (why !== undefined && bad.length < 5) bad.push(why);
          peakKeys = Math.max(peakKeys, engine.keyCount);
        }
        ts += WINDOW_MS * 3;
      }
      t.same(bad, [], `seed ${seed}: every decision matches`);
      t.ok(peakKeys > FIRST_CHUNK_SLOTS * 8, `seed ${seed}: past the 8192-slot boundary`);
      // A snapshot of the state spread over all chunks restores to the same decisions.
      const restored = createLimiter(OPTIONS);
      restored.restore(engine.records());
      const late: string[] = [];
      for (let i = 0; i < keysMax; i += 97) {
        const want = JSON.stringify(engine.allow(ts, `p${i}`));
        const got = JSON.stringify(restored.allow(ts, `p${i}`));
        if (want !== got && late.length < 5) late.push(`p${i}: ${got} vs ${want}`);
      }
      t.same(late, [], `seed ${seed}: restored state decides the same`);
    }
  },
);
