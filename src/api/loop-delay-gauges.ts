/**
 * The `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds` gauges, as the delay of
 * the loop past the sampling interval.
 *
 * Why not prom-client's own: perf_hooks' monitorEventLoopDelay records the whole time between
 * two of its timer callbacks, the interval included (an idle loop sampled every 100 ms reads
 * min 99 ms, max 101-105 ms), and prom-client exports those values as they are. With our 100 ms
 * sampling that made every idle node report a 0.1 s "lag" and a 10 ms stall read as 110 ms.
 * Here the interval is subtracted, so the gauges read ~0 when idle and the stall itself when not.
 * A stall shorter than the interval shows only if the timer fell due during it: the max is a
 * lower bound of the longest stall.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

const quantiles = [
  ['min', 'The smallest event-loop delay past the sampling interval since the last scrape.'],
  ['max', 'The largest event-loop delay past the sampling interval since the last scrape.'],
  ['mean', 'The mean event-loop delay past the sampling interval since the last scrape.'],
  ['stddev', 'The standard deviation of the recorded event-loop delays.'],
  ['p50', 'The median event-loop delay past the sampling interval since the last scrape.'],
  ['p90', 'The 90th percentile event-loop delay past the sampling interval.'],
  ['p99', 'The 99th percentile event-loop delay past the sampling interval.'],
] as const;

type Quantile = (typeof quantiles)[number][0];

/** Name of one of the gauges (the names prom-client's default metrics use). */
export const loopDelayGaugeName = (q: Quantile): string => `nodejs_eventloop_lag_${q}_seconds`;

/**
 * Replaces prom-client's histogram-based lag gauges in `registry` (registered there by
 * collectDefaultMetrics) with gauges fed by our own monitor sampled every `sampleMs`.
 */
export function replaceLoopDelayGauges(registry: Registry, sampleMs: number): void {
  if (!Number.isInteger(sampleMs) || sampleMs < 1) {
    throw new Error(`loop delay sample interval must be a positive integer, got ${sampleMs}`);
  }
  for (const [q] of quantiles) registry.removeSingleMetric(loopDelayGaugeName(q));
  const monitor = monitorEventLoopDelay({ resolution: sampleMs });
  monitor.enable();
  const intervalNs = sampleMs * 1e6;
  // Seconds past the interval; a histogram with no sample yet reads 0, not a huge min.
  const past = (ns: number): number =>
    monitor.count === 0 || !Number.isFinite(ns) ? 0 : Math.max(0, ns - intervalNs) / 1e9;
  const read: Record<Quantile, () => number> = {
    min: () => past(monitor.min),
    max: () => past(monitor.max),
    mean: () => past(monitor.mean),
    // A spread, not a point: the interval does not shift it.
    stddev: () => (monitor.count === 0 ? 0 : monitor.stddev / 1e9),
    p50: () => past(monitor.percentile(50)),
    p90: () => past(monitor.percentile(90)),
    p99: () => past(monitor.percentile(99)),
  };
  // One collect for all seven (run by the first gauge's get() at scrape), then a fresh
  // window, as prom-client does.
  const gauges: [Quantile, Gauge][] = [];
  const collectAll = (): void => {
    for (const [q, g] of gauges) g.set(read[q]());
    monitor.reset();
  };
  for (const [i, [q, help]] of quantiles.entries()) {
    const name = loopDelayGaugeName(q);
    const collect = i === 0 ? collectAll : undefined;
    gauges.push([q, new Gauge({ name, help, registers: [registry], collect })]);
  }
}
