/**
 * What the Raft driver needs of a log store, whichever keeps the bytes: SQLite
 * (raft-log-store.ts) or append-only segment files (raft-file-log-store.ts). Both are a LogView,
 * so the core restarts from what is on disk alone.
 */
import type { Entry, HardState, LogView, SnapshotMeta } from '../raft/types.js';

/** Where a node keeps its Raft log (RaftNodeOptions.logStore), the one list of them. */
export const LOG_STORE_KINDS = ['file', 'sqlite'] as const;
export type LogStoreKind = (typeof LOG_STORE_KINDS)[number];

/** What one group commit writes: the durable part of a Ready. */
export interface PersistBatch {
  snapshot: SnapshotMeta | null;
  entries: Entry[];
  hardState: HardState | null;
}

/** Called once a persistAsync() batch is durable (error null) or failed. */
export type PersistDone = (error: Error | null) => void;

export interface RaftLogStorage extends LogView {
  readonly path: string;
  /**
   * Writes snapshot meta, entries (truncating any conflicting suffix) and hard state, durable
   * on return. A batch that moves only the commit index may be kept in memory until the next
   * write (a lost commit index is relearned from the leader).
   */
  persist(batch: PersistBatch): void;
  /** persist() whose durability is reported to `done`; false when nothing had to be written. */
  persistAsync(batch: PersistBatch, done: PersistDone): boolean;
  /** Writes posted and not durable yet. */
  writesInFlight(): number;
  /** Drops entries up to meta.index (a durable state machine snapshot covers them). */
  compact(meta: SnapshotMeta): void;
  /** Test bug 'ack-before-fsync': writes stay where a SIGKILL loses them until the release. */
  holdWrites(): void;
  releaseHeldWrites(): void;
  /** A commit-only batch is held in memory, not written yet. */
  hasUnwrittenCommit(): boolean;
  close(): void;
}
