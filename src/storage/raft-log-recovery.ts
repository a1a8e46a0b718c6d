import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';
import type { Entry, EntryType } from '../raft/types.js';
import { entryChecksum, textChecksum } from './raft-crc32.js';
import type { StateRow } from './raft-log-schema.js';

/**
 * Recovery scan run once on open: every entry's checksum and the contiguity of indexes are
 * verified. The torn-tail rule (why a bad row may be dropped instead of refusing to start):
 *
 * SQLite's WAL already discards a transaction whose frames did not all reach the disk, so a
 * half-written group commit is normally invisible. Our row checksum is a second line for
 * storage that lies about ordering. A bad row is treated as a torn tail, and the log truncated
 * from it, only when ALL of these hold:
 *   1. its index is above the durable commit index (never a committed entry), and
 *   2. every row from it to the end belongs to the last group commit (the highest `batch`),
 *      i.e. the only transaction that can have been in flight at the crash.
 * Anything else (a bad committed entry, a bad row followed by rows of older batches, a gap,
 * a bad state row) throws DrlError('storage_corrupt') naming the file and the index.
 */

export interface RecoveredLog {
  /** Terms of entries snapIndex+1 .. lastIndex, in order. */
  terms: number[];
  /** Index of the first removed row when a torn tail was truncated, else null. */
  tornFrom: number | null;
}

interface RawRow {
  idx: number;
  term: number;
  type: number;
  data: Buffer;
  crc: number;
  batch: number;
}

export function stateChecksum(row: Omit<StateRow, 'crc'>): number {
  const text = `${row.version}|${row.term}|${row.vote ?? ''}|${row.commit_index}|${row.batch}|${row.snap_index}|${row.snap_term}|${row.snap_conf ?? ''}`;
  return textChecksum(text);
}

export function verifyStateRow(path: string, row: StateRow): void {
  if (stateChecksum(row) !== row.crc) {
    throw new DrlError('storage_corrupt', `${path}: raft hard state row fails its checksum`);
  }
}

export function rowChecksumOk(row: RawRow): boolean {
  return entryChecksum(row.idx, row.term, row.type, row.data) === row.crc;
}

export function scanLog(db: Database.Database, path: string, state: StateRow): RecoveredLog {
  const maxBatch =
    (db.prepare('SELECT MAX(batch) AS b FROM raft_entries').get() as { b: number | null }).b ?? 0;
  // Rows at or below the snapshot index are compaction's garbage not swept yet (the store
  // deletes them in bounded ranges, see RaftLogStore.planSweep): not part of the log.
  const rows = db
    .prepare(
      'SELECT idx, term, type, data, crc, batch FROM raft_entries WHERE idx > ? ORDER BY idx',
    )
    .iterate(state.snap_index) as IterableIterator<RawRow>;
  const terms: number[] = [];
  let expected = state.snap_index + 1;
  let badIndex: number | null = null;
  let badReason = '';
  for (const row of rows) {
    if (badIndex !== null) {
      if (row.batch !== maxBatch) {
        throw corrupt(path, badIndex, `${badReason}, followed by rows of older batches`);
      }
      continue;
    }
    if (row.idx !== expected) {
      badIndex = Math.min(row.idx, expected);
      badReason = `gap: expected index ${expected}, found ${row.idx}`;
    } else if (!rowChecksumOk(row)) {
      badIndex = row.idx;
      badReason = 'checksum mismatch';
    } else {
      terms.push(row.term);
      expected++;
      continue;
    }
    if (badIndex <= state.commit_index) throw corrupt(path, badIndex, `${badReason} (committed)`);
    if (row.batch !== maxBatch) throw corrupt(path, badIndex, `${badReason} (not in last batch)`);
  }
  if (badIndex === null && state.commit_index > state.snap_index + terms.length) {
    throw corrupt(path, expected, `commit index ${state.commit_index} beyond the last entry`);
  }
  return { terms, tornFrom: badIndex };
}

function corrupt(path: string, index: number, why: string): DrlError {
  return new DrlError('storage_corrupt', `${path}: raft log entry ${index}: ${why}`);
}

export function rowToEntry(row: RawRow): Entry {
  return { index: row.idx, term: row.term, type: row.type as EntryType, data: row.data };
}
