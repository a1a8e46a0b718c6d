/**
 * A Prometheus histogram (no labels) for a per-request or per-write observation (decision
 * latency; fsync duration and batch size, observed on every node per durable write), registered in a prom-client
 * Registry like any metric. prom-client's own observe() allocates a closure and a pair object,
 * validates and hashes the (empty) label set and indexes buckets by stringified bounds on every
 * call: on POST /allow that was a measurable share of a lease-served denial. Here an observation
 * is a bucket scan and three number updates; the exposition format is prom-client's.
 */
import type { Registry } from 'prom-client';

interface ValuePair {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  /** Per bucket (not cumulative); the last slot counts what exceeds every bound. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registers: Registry[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    }
    this.bounds = Float64Array.from(buckets);
    this.counts = new Float64Array(buckets.length + 1);
    for (const r of registers) r.registerMetric(this as never);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** What prom-client's Registry renders (buckets cumulative, then +Inf, sum and count). */
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: ValuePair[];
  }> {
    const values: ValuePair[] = [];
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({ value: cumulative, labels: { le: this.bounds[i]! }, metricName: bucket });
    }
    values.push({ value: this.count, labels: { le: '+Inf' }, metricName: bucket });
    values.push({ value: this.sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.count, labels: {}, metricName: `${this.name}_count` });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
