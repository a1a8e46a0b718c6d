import { REQUEST_RETENTION_MS_DEFAULT, REQUESTS_MAX_DEFAULT } from '../../limiter/bounds.js';

/**
 * The log index and ts of the entry that first decided each requestId, so a retry answers with
 * the first decision's index and ts (the contract: "returns the first decision"), not those of
 * the entry that re-read it. Same bounds as the engine's exactly-once table. Kept in memory
 * only: an id decided before the last snapshot a node restored from answers with the retry's
 * own index and ts (the engine's snapshot format does not hold the index).
 */
export interface FirstAnswer {
  index: number;
  ts: number;
}

export class FirstAnswerTable {
  private readonly entries = new Map<string, FirstAnswer>();

  constructor(
    private readonly retentionMs = REQUEST_RETENTION_MS_DEFAULT,
    private readonly max = REQUESTS_MAX_DEFAULT,
  ) {}

  remember(id: string, index: number, ts: number): void {
    this.entries.delete(id);
    this.entries.set(id, { index, ts });
    this.sweep(ts);
  }

  get(id: string): FirstAnswer | undefined {
    return this.entries.get(id);
  }

  /** Drops the oldest entries beyond the bounds; a few per call keeps apply cheap. */
  private sweep(ts: number): void {
    for (let i = 0; i < 4; i++) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const expired = oldest.value[1].ts + this.retentionMs <= ts;
      if (!expired && this.entries.size <= this.max) return;
      this.entries.delete(oldest.value[0]);
    }
  }
}
