import { DrlError } from '../errors.js';
import type { HardState } from '../raft/types.js';
import type { PersistBatch } from './raft-log-storage.js';

/** The log a batch is checked against: its snapshot index, last index and hard state. */
export interface LogBounds {
  snapIndex: number;
  last: number;
  hardState: HardState;
}

/**
 * Rejects a batch that would break an invariant of the log (snapshots and terms never go back,
 * committed entries are never rewritten, commit stays within the log), before a store changes
 * anything, so the caller's error leaves the store as it was. Both log stores call it.
 */
export function checkPersistBatch(b: PersistBatch, log: LogBounds): void {
  let { snapIndex, last } = log;
  let commit = log.hardState.commit;
  if (b.snapshot) {
    if (b.snapshot.index < snapIndex) {
      throw new DrlError(
        'internal',
        `raft log: snapshot ${b.snapshot.index} older than ${snapIndex}`,
      );
    }
    snapIndex = b.snapshot.index;
    last = snapIndex;
    commit = Math.max(commit, snapIndex);
  }
  const first = b.entries[0]?.index;
  if (first !== undefined) {
    if (first <= snapIndex || first > last + 1) {
      throw new DrlError(
        'internal',
        `raft log: append at ${first} with log (${snapIndex}, ${last}]`,
      );
    }
    if (first <= commit)
      throw new DrlError('internal', `raft log: truncating committed entry ${first}`);
    for (let i = 1; i < b.entries.length; i++) {
      if (b.entries[i]!.index !== first + i)
        throw new DrlError('internal', 'raft log: entries not contiguous');
    }
    last = first + b.entries.length - 1;
  }
  const hs = b.hardState;
  // Without a hard state the commit index stays: a snapshot must not cut the log below it.
  if (!hs && commit > last)
    throw new DrlError('internal', `raft log: commit ${commit} beyond last ${last}`);
  if (hs) {
    if (hs.term < log.hardState.term) {
      throw new DrlError('internal', `raft log: term ${log.hardState.term} -> ${hs.term}`);
    }
    if (hs.commit < commit)
      throw new DrlError('internal', `raft log: commit ${commit} -> ${hs.commit}`);
    if (hs.commit > last)
      throw new DrlError('internal', `raft log: commit ${hs.commit} beyond last ${last}`);
  }
}

/** A batch that moves the commit index and nothing else (stores keep it in memory). */
export function isCommitOnly(b: PersistBatch, hardState: HardState): boolean {
  if (b.snapshot || b.entries.length > 0 || !b.hardState) return false;
  return b.hardState.term === hardState.term && b.hardState.vote === hardState.vote;
}
