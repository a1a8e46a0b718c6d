/**
 * What one drl node did during a measured window, from two scrapes of its Prometheus `/metrics`
 * (before and after): its event-loop delay (prom-client resets that histogram at every scrape,
 * so the second scrape covers exactly the window), and the differences of the cumulative fsync
 * and decision-duration histograms. When the tail is drl's, this says which node stalled and
 * whether durable writes (synchronous SQLite fsync on the loop) account for it.
 */

/** `name{labels}` -> value, for every sample line of a Prometheus text exposition. */
export function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (cut < 0) continue;
    const value = Number(line.slice(cut + 1));
    if (!Number.isNaN(value)) samples.set(line.slice(0, cut), value);
  }
  return samples;
}

export interface HistogramDelta {
  count: number;
  sumS: number;
  /** Upper bounds (s) with the observations at or below each, in the window, ascending. */
  cumulative: [number, number][];
}

/** One histogram's observations between two scrapes. */
export function histogramDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
): HistogramDelta | undefined {
  const count = after.get(`${name}_count`);
  if (count === undefined) return undefined;
  const delta = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  const prefix = `${name}_bucket{le="`;
  const cumulative: [number, number][] = [];
  for (const key of after.keys()) {
    if (!key.startsWith(prefix)) continue;
    const le = key.slice(prefix.length, key.indexOf('"', prefix.length));
    cumulative.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), delta(key)]);
  }
  cumulative.sort((a, b) => a[0] - b[0]);
  return { count: delta(`${name}_count`), sumS: delta(`${name}_sum`), cumulative };
}

/** The smallest bucket bound (s) holding at least fraction q of the window's observations. */
export function quantileBound(h: HistogramDelta, q: number): number {
  if (h.count <= 0) return Number.NaN;
  const want = q * h.count;
  for (const [le, n] of h.cumulative) if (n >= want) return le;
  return Number.POSITIVE_INFINITY;
}

export interface NodeWindow {
  /**
   * Largest event-loop delay of the window past drl's 100 ms sampling interval (a lower bound
   * of the longest stall: a shorter stall shows only if a sample fell due during it).
   */
  loopDelayMaxMs: number | undefined;
  fsyncs: number;
  fsyncTotalMs: number;
  fsyncMeanMs: number;
  /** Upper bucket bound of the 99th percentile fsync. */
  fsyncP99MsBound: number;
  decisions: number;
  decisionMeanMs: number;
  decisionP99MsBound: number;
}

const ms = (s: number): number => s * 1000;

export function nodeWindow(beforeText: string, afterText: string): NodeWindow {
  const before = parseProm(beforeText);
  const after = parseProm(afterText);
  const lag = after.get('nodejs_eventloop_lag_max_seconds');
  const fsync = histogramDelta(before, after, 'drl_fsync_duration_seconds');
  const decision = histogramDelta(before, after, 'drl_decision_duration_seconds');
  const mean = (h: HistogramDelta | undefined) =>
    h && h.count > 0 ? ms(h.sumS / h.count) : Number.NaN;
  return {
    loopDelayMaxMs: lag === undefined ? undefined : ms(lag),
    fsyncs: fsync?.count ?? 0,
    fsyncTotalMs: ms(fsync?.sumS ?? 0),
    fsyncMeanMs: mean(fsync),
    fsyncP99MsBound: fsync ? ms(quantileBound(fsync, 0.99)) : Number.NaN,
    decisions: decision?.count ?? 0,
    decisionMeanMs: mean(decision),
    decisionP99MsBound: decision ? ms(quantileBound(decision, 0.99)) : Number.NaN,
  };
}

/** GET http://<http>/metrics, bounded; undefined when the node does not answer. */
export async function scrapeMetrics(http: string, timeoutMs = 2_000): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
