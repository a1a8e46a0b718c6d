/**
 * failOpen / failClosed answers made locally when no node answered in time. They are counted
 * and reported at most once per interval, so an outage does not flood the caller's logs.
 */
import type { DrlError } from '../errors.js';
import type { AllowOptions, ClientDecision, ClientLogger } from './types.js';

export class DegradedMode {
  total = 0;
  private sinceReport = 0;
  private lastReportMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly mode: 'failOpen' | 'failClosed',
    private readonly logger: ClientLogger,
    private readonly intervalMs: number,
  ) {}

  decide(opts: AllowOptions, cause: DrlError): ClientDecision {
    this.total++;
    this.sinceReport++;
    const nowMs = Date.now();
    if (nowMs - this.lastReportMs >= this.intervalMs) {
      this.logger.warn(
        `distributed-rate-limiter: ${this.sinceReport} decision(s) made locally (${this.mode}, ${this.total} total): ${cause.code}: ${cause.message}`,
      );
      this.sinceReport = 0;
      this.lastReportMs = nowMs;
    }
    const limit = opts.limit ?? 0;
    const open = this.mode === 'failOpen';
    return {
      allowed: open,
      limit,
      remaining: open ? limit : 0,
      resetMs: 0,
      retryAfterMs: open ? 0 : null,
      index: null,
      ts: nowMs,
      degraded: true,
    };
  }
}
