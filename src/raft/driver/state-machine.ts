import type { Entry, SnapshotMeta } from '../types.js';

/**
 * What the driver applies committed entries to. apply() is called once per committed entry, in
 * log order, on every node (Normal entries, including the empty no-op each new leader commits,
 * and ConfChange entries, which the Raft core has already taken into account).
 */
export interface StateMachine<R = unknown> {
  /** Applies one committed entry; the result resolves the proposer's promise on the leader. */
  apply(entry: Entry): R;
  /**
   * Last index the state machine holds durably at start (a SQLite state machine stores it in
   * the same transaction as its effects); entries up to it are not applied again. Default 0.
   */
  appliedIndex?(): number;
  /** Snapshot hooks, for log compaction and catching up peers (not streamed yet). */
  snapshot?(): { meta: SnapshotMeta; data: Uint8Array };
  restore?(meta: SnapshotMeta, data: Uint8Array): void;
}

export interface Proposed<R> {
  index: number;
  result: R;
}
