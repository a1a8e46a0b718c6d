import type { Entry, SnapshotMeta } from '../types.js';

/**
 * What the driver applies committed entries to. apply() is called once per committed entry, in
 * log order, on every node (Normal entries, including the empty no-op each new leader commits,
 * and ConfChange entries, which the Raft core has already taken into account).
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies one committed entry; the result resolves the proposer's promise on the leader.
   * `wanted` false: no proposal on this node waits for this entry (every entry on a follower; on
   * a leader, entries of earlier terms or of proposals that gave up), so the driver discards the
   * result: the entry must change the state exactly as when wanted, but the state machine need
   * not build a result (it may return any value of R). Omitted: wanted.
   */
  apply(entry: Entry, wanted?: boolean): R;
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
   * Preferred over snapshotData: the state machine's last durable snapshot as a stream the
   * driver pulls a piece at a time between event-loop turns (the leader keeps committing while
   * a big snapshot is sent). null: none to offer (the driver falls back to snapshotData).
   */
  openSnapshot?(): SnapshotSource | null;
  /**
   * Replaces the whole state with a snapshot's bytes, durably and atomically: a crash during
   * restore leaves the old state (the driver then restores again from its staged copy).
   */
  restore?(meta: SnapshotMeta, data: Uint8Array): void;
}

/** A snapshot's bytes, produced on demand: each piece with bounded work (a few ms at most). */
export interface SnapshotSource {
  /** The applied index the bytes hold (a durable index of the state machine). */
  readonly index: number;
  /** The next piece of the stream, or null at its end. */
  next(): Uint8Array | null;
  /** Releases what the source holds; called once, also when the stream is abandoned. */
  close(): void;
}

/** A source over bytes already in memory (snapshotData). */
export function bytesSource(
  index: number,
  data: Uint8Array,
  pieceBytes = 64 * 1024,
): SnapshotSource {
  let at = 0;
  return {
    index,
    next() {
      if (at >= data.length) return null;
      const piece = data.subarray(at, Math.min(data.length, at + pieceBytes));
      at += piece.length;
      return piece;
    },
    close() {
      at = data.length;
    },
  };
}

export interface Proposed<R> {
  index: number;
  result: R;
}

/**
 * Called once per proposal, always in a later microtask than the call that proposed: with an
 * error (the proposal is lost, late or refused) or with its index and the state machine's result.
 */
export type ProposalDone<R> = (err: Error | null, proposed: Proposed<R> | null) => void;
