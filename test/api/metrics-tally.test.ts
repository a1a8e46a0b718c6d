// The per-decision instruments kept off prom-client's per-call path still scrape as Prometheus
// text with exact values: bucket bounds inclusive and cumulative, counts folded in on scrape,
// nothing lost when the per-rule table overflows.
import t from 'tap';
import { createMetrics } from '../../src/api/index.js';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test('decision latency: cumulative buckets, inclusive bounds, sum and count', async (t) => {
  const m = createMetrics({ processMetrics: false });
  for (const s of [0.0001, 0.0002, 0.001, 0.003, 7]) m.decisionDuration.observe(s);
  const text = await m.registry.metrics();
  const at = (le: string) => sample(text, `drl_decision_duration_seconds_bucket{le="${le}"}`);
  t.equal(at('0.0001'), 1, 'a value on a bound counts in that bucket');
  t.equal(at('0.00025'), 2);
  t.equal(at('0.001'), 3);
  t.equal(at('0.005'), 4);
  t.equal(at('2.5'), 4, 'beyond the last bound only +Inf holds it');
  t.equal(at('+Inf'), 5);
  t.equal(sample(text, 'drl_decision_duration_seconds_count'), 5);
  t.ok(Math.abs(sample(text, 'drl_decision_duration_seconds_sum')! - 7.0043) < 1e-9, 'sum');
});

t.test('decision counters: folded in on each scrape, never counted twice', async (t) => {
  const m = createMetrics({ processMetrics: false });
  m.tally.decided('default', true, false);
  m.tally.decided('default', false, true);
  m.tally.decided('x', false, false);
  let text = await m.registry.metrics();
  t.equal(sample(text, 'drl_decisions_total{outcome="allowed",rule="default"}'), 1);
  t.equal(sample(text, 'drl_decisions_total{outcome="denied",rule="default"}'), 1);
  t.equal(sample(text, 'drl_decisions_total{outcome="denied",rule="x"}'), 1);
  t.equal(sample(text, 'drl_decisions_total{outcome="allowed",rule="x"}'), undefined);
  t.equal(sample(text, 'drl_lease_served_total'), 1);
  m.tally.decided('default', false, true);
  text = await m.registry.metrics();
  t.equal(sample(text, 'drl_decisions_total{outcome="denied",rule="default"}'), 2);
  t.equal(sample(text, 'drl_decisions_total{outcome="allowed",rule="default"}'), 1);
  t.equal(sample(text, 'drl_lease_served_total'), 2);
});

t.test('more rules than the tally keeps: earlier counts are flushed, not dropped', async (t) => {
  const m = createMetrics({ processMetrics: false });
  for (let i = 0; i < 1500; i++) m.tally.decided(`r${i}`, true, false);
  m.tally.decided('r0', true, false);
  const text = await m.registry.metrics();
  t.equal(sample(text, 'drl_decisions_total{outcome="allowed",rule="r0"}'), 2);
  t.equal(sample(text, 'drl_decisions_total{outcome="allowed",rule="r1499"}'), 1);
  let total = 0;
  for (const l of text.split('\n'))
    if (l.startsWith('drl_decisions_total{')) total += Number(l.split(' ')[1]);
  t.equal(total, 1501);
});
