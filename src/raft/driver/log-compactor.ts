/**
 * Log compaction driven by the state machine's durable snapshots. Each time the state machine
 * makes a new index durable, the core records a snapshot there (snapshotTaken); the log store
 * is compacted to the newest such snapshot that still leaves `tailEntries` entries behind the
 * durable index, so a follower a little behind gets entries, not a whole snapshot. The store
 * is never compacted past what the state machine holds durably (a restart replays from there).
 */
import type { RaftLogStorage } from '../../storage/raft-log-storage.js';
import type { RaftCore, SnapshotMeta } from '../types.js';

/** Bound on remembered snapshot points (older ones are dropped; compaction just lags more). */
const metasMax = 64;

export class LogCompactor {
  private durable = 0;
  private readonly metas: SnapshotMeta[] = [];

  constructor(
    private readonly core: RaftCore,
    private readonly store: RaftLogStorage,
    private readonly tailEntries: number,
  ) {}

  /** Call after advance(), with the state machine's durable index. */
  onDurable(index: number): void {
    if (index <= this.durable) return;
    this.durable = index;
    this.core.snapshotTaken(index);
    const meta = this.core.snapshotMeta();
    if (meta && meta.index === index) {
      this.metas.push(meta);
      if (this.metas.length > metasMax) this.metas.shift();
    }
    let target: SnapshotMeta | null = null;
    while (this.metas.length > 0 && this.metas[0]!.index <= index - this.tailEntries) {
      target = this.metas.shift()!;
    }
    if (target && target.index > (this.store.snapshot?.index ?? 0)) {
      if (target.index <= this.store.lastIndex()) this.store.compact(target);
    }
  }
}
