/** What every route module gets: the node, the metrics, and a time-bounded call helper. */
import { DrlError } from '../errors.js';
import type { AllowTracer } from './allow-tracer.js';
import { DeadlineSweep } from './deadline-sweep.js';
import type { DrlMetrics } from './metrics.js';
import type { RateLimitService } from './service.js';

export interface RouteContext {
  service: RateLimitService;
  metrics: DrlMetrics;
  /**
   * Resolves like `work` (mapped by `map` when given), or rejects with DrlError('unavailable')
   * after the request timeout.
   */
  bounded<T, U = T>(work: Promise<T>, map?: (value: T) => U): Promise<U>;
  /** Diagnosis only (ApiOptions.allowTracer); null in production. */
  allowTracer: AllowTracer | null;
}

/** One DeadlineSweep per API: a single timer bounds every waiting request. */
export function boundedBy(timeoutMs: number): RouteContext['bounded'] {
  const sweep = new DeadlineSweep(timeoutMs);
  return (work, map) => sweep.bound(work, map);
}

/** Contract bounds stated in bytes, which JSON Schema's maxLength (code points) cannot say. */
export function checkBytes(
  value: string,
  maxBytes: number,
  code: 'invalid_key' | 'invalid_request_id',
  what: string,
): void {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: short strings skip the count.
  if (value.length * 3 <= maxBytes) return;
  if (Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw new DrlError(code, `${what} must be at most ${maxBytes} bytes of UTF-8`);
  }
}
