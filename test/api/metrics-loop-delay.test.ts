// The event-loop delay gauges are sampled every 100 ms (not prom-client's 10 ms default, which
// costs an idle group CPU): a stall of the loop must still show in them on the next scrape.
import t from 'tap';
import { createMetrics, loopDelaySampleMs } from '../../src/api/metrics.js';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function blockLoopMs(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the point is a stalled event loop
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a 400 ms stall shows in nodejs_eventloop_lag_max_seconds', async (t) => {
  t.equal(loopDelaySampleMs, 100);
  const m = createMetrics();
  // The first scrape resets the monitor's histogram, so the stall below is what the next one sees.
  await m.registry.metrics();
  await sleep(3 * loopDelaySampleMs);
  blockLoopMs(400);
  await sleep(3 * loopDelaySampleMs);
  const max = sample(await m.registry.metrics(), 'nodejs_eventloop_lag_max_seconds');
  t.ok(max !== undefined, 'the gauge is exported');
  // The monitor's timer was due during the stall, so it fires >= 400 - 100 ms late.
  t.ok(max! >= 0.25, `max lag ${max} s reflects the stall`);
  t.ok(max! < 30, 'and is in seconds');
});
