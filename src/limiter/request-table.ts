import type { Decision, StateRecord } from './types.js';

/**
 * The exactly-once table (Raft dissertation section 6.3, client sessions, keyed by requestId).
 * An entry is valid for `retentionMs` of command time after the ts it was decided at, and at most
 * `max` entries are kept (the oldest dropped first). Expiry is judged at lookup, so when the
 * sweep gets to an expired entry never changes what a lookup answers. Map insertion order is
 * arrival order (`seq`), which is also ts order since ts never decreases.
 */
export interface RequestEntry {
  fingerprint: string;
  ts: number;
  decision: Decision;
  seq: number;
  /** Where the caller's log placed the deciding command; undefined outside a replicated log. */
  logIndex: number | undefined;
}

export class RequestTable {
  private entries = new Map<string, RequestEntry>();
  private nextSeq = 0;
  private tracking = false;
  private changed = new Set<string>();
  private removed = new Set<string>();

  constructor(
    readonly retentionMs: number,
    readonly max: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The live entry for id at ts, if any. */
  get(id: string, ts: number): RequestEntry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.ts + this.retentionMs <= ts) return undefined;
    return entry;
  }

  put(
    id: string,
    fingerprint: string,
    ts: number,
    decision: Decision,
    logIndex: number | undefined,
  ): void {
    this.remove(id);
    this.entries.set(id, { fingerprint, ts, decision, seq: this.nextSeq++, logIndex });
    if (this.tracking) this.changed.add(id);
    while (this.entries.size > this.max) this.remove(this.entries.keys().next().value!);
  }

  /** Drops up to `budget` expired entries, oldest first. */
  sweep(ts: number, budget: number): void {
    for (let i = 0; i < budget; i++) {
      const oldest = this.entries.entries().next();
      if (oldest.done || oldest.value[1].ts + this.retentionMs > ts) return;
      this.remove(oldest.value[0]);
    }
  }

  /** Live entries in arrival order. */
  *live(ts: number): Iterable<[string, RequestEntry]> {
    for (const item of this.entries) if (item[1].ts + this.retentionMs > ts) yield item;
  }

  /** Restores entries (any order); they are re-sorted by seq. */
  restore(items: Array<[string, RequestEntry]>): void {
    items.sort((a, b) => a[1].seq - b[1].seq);
    this.entries = new Map(items);
    this.nextSeq = items.length === 0 ? 0 : items[items.length - 1]![1].seq + 1;
  }

  setNextSeq(seq: number): void {
    if (seq > this.nextSeq) this.nextSeq = seq;
  }

  get seq(): number {
    return this.nextSeq;
  }

  startTracking(): void {
    this.tracking = true;
  }

  /** Entries put or removed since the last take (an upper bound on its rows). */
  get changedCount(): number {
    return this.changed.size + this.removed.size;
  }

  takeDirty(ts: number): { changed: Array<[string, RequestEntry]>; removed: string[] } {
    const changed: Array<[string, RequestEntry]> = [];
    for (const id of this.changed) {
      const entry = this.get(id, ts);
      if (entry !== undefined) changed.push([id, entry]);
      else this.removed.add(id);
    }
    const removed = [...this.removed].filter((id) => this.get(id, ts) === undefined);
    this.changed = new Set();
    this.removed = new Set();
    return { changed, removed };
  }

  private remove(id: string): void {
    if (this.entries.delete(id) && this.tracking) {
      this.changed.delete(id);
      this.removed.add(id);
    }
  }
}

/** An entry as a snapshot record (the decision copied: records leave the engine). */
export function requestRecord(id: string, entry: RequestEntry): StateRecord {
  const record: StateRecord = {
    kind: 'request',
    id,
    fingerprint: entry.fingerprint,
    ts: entry.ts,
    decision: { ...entry.decision },
    seq: entry.seq,
  };
  if (entry.logIndex !== undefined) record.logIndex = entry.logIndex;
  return record;
}
