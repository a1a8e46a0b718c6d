// A drl node's window from two /metrics scrapes: histogram differences, the p99 bucket bound,
// and the loop delay that the second scrape alone covers.
import t from 'tap';
import {
  histogramDelta,
  nodeWindow,
  parseProm,
  quantileBound,
} from '../../bench/http-drl-metrics.js';

function scrape(fsync: number[], sumS: number, lagMaxS: number): string {
  const bounds = ['0.001', '0.0025', '0.005', '+Inf'];
  const lines = ['# HELP drl_fsync_duration_seconds Duration of each durable log write (fsync).'];
  let cumulative = 0;
  bounds.forEach((le, i) => {
    cumulative += fsync[i] ?? 0;
    lines.push(`drl_fsync_duration_seconds_bucket{le="${le}"} ${cumulative}`);
  });
  lines.push(
    `drl_fsync_duration_seconds_sum ${sumS}`,
    `drl_fsync_duration_seconds_count ${cumulative}`,
  );
  lines.push(`nodejs_eventloop_lag_max_seconds ${lagMaxS}`);
  return `${lines.join('\n')}\n`;
}

t.test('differences of cumulative histograms between two scrapes', async (t) => {
  const before = parseProm(scrape([10, 0, 0, 0], 0.005, 0.2));
  const after = parseProm(scrape([10, 95, 4, 1], 0.5, 0.012));
  const d = histogramDelta(before, after, 'drl_fsync_duration_seconds')!;
  t.equal(d.count, 100);
  t.equal(Math.round(d.sumS * 1000), 495);
  t.same(d.cumulative, [
    [0.001, 0],
    [0.0025, 95],
    [0.005, 99],
    [Number.POSITIVE_INFINITY, 100],
  ]);
  t.equal(quantileBound(d, 0.5), 0.0025);
  t.equal(quantileBound(d, 0.99), 0.005);
  t.equal(quantileBound(d, 1), Number.POSITIVE_INFINITY);
  t.equal(histogramDelta(before, after, 'missing'), undefined);
});

t.test('nodeWindow: the window loop delay is the second scrape alone', async (t) => {
  const w = nodeWindow(scrape([10, 0, 0, 0], 0.005, 0.2), scrape([10, 95, 4, 1], 0.5, 0.012));
  t.equal(w.loopDelayMaxMs, 12);
  t.equal(w.fsyncs, 100);
  t.equal(Math.round(w.fsyncTotalMs), 495);
  t.equal(Math.round(w.fsyncMeanMs * 100) / 100, 4.95);
  t.equal(w.fsyncP99MsBound, 5);
  t.equal(w.decisions, 0, 'no decision histogram: none counted');
  t.ok(Number.isNaN(w.decisionMeanMs));
});
