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
  /**
   * Last index the state machine holds durably now (it moves as it writes snapshots): the log
   * may be compacted up to it. Without it the log is never compacted.
   */
  durableIndex?(): number;
  /**
   * The whole current state as bytes (the state after the last entry applied): the driver
   * streams them to a peer whose log is behind the compaction point. Without this hook lagging
   * peers cannot be caught up once the log is compacted.
   */
  snapshotData?(): Uint8Array;
  /**
   * Replaces the whole state with a snapshot's bytes, durably and atomically: a crash during
   * restore leaves the old state (the driver then restores again from its staged copy).
   */
  restore?(meta: SnapshotMeta, data: Uint8Array): void;
}

export interface Proposed<R> {
  index: number;
  result: R;
}
