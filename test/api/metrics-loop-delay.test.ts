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

t.test('the lag gauges do not count the sampling interval as delay', async (t) => {
  const m = createMetrics();
  await m.registry.metrics();
  // Ten samples of a loop with nothing to do.
  await sleep(10 * loopDelaySampleMs);
  const text = await m.registry.metrics();
  const min = sample(text, 'nodejs_eventloop_lag_min_seconds');
  const p50 = sample(text, 'nodejs_eventloop_lag_p50_seconds');
  t.ok(min !== undefined && p50 !== undefined, 'the gauges are exported');
  // perf_hooks records whole intervals (>= 0.1 s each here): the gauges report what is past it.
  t.ok(min! >= 0 && min! < 0.05, `min ${min} s is the delay past the 0.1 s interval`);
  t.ok(p50! >= 0 && p50! < loopDelaySampleMs / 1000, `p50 ${p50} s likewise`);
  t.equal(
    text.split('\n').filter((l) => l.startsWith('nodejs_eventloop_lag_max_seconds ')).length,
    1,
  );
});
