/**
 * The Raft log's write statements, in one place: the store prepares them for sync writes and
 * its writer thread (raft-log-writer.ts, async writes) prepares the same text, so the two
 * paths cannot drift apart on a column or a batch size.
 */

import type { StateRow } from './raft-log-schema.js';

/**
 * Row counts of the log's INSERT statements (the store's and its writer thread's), largest first: a batch is written as 64-row
 * statements and then its remainder in binary pieces (11 = 8 + 2 + 1), at most 7 statements
 * for any remainder. A statement per row cost 33 µs for an 11-entry batch, the pieces 25 µs
 * (SQLite, 64-byte entries): batches at 10,000 entries/s hold ~11.
 */
export const INSERT_ROW_COUNTS = [64, 32, 16, 8, 4, 2, 1] as const;

/** INSERT of `rows` entry rows (FIELDS_PER_ROW positional parameters each). */
function insertRowsSql(rows: number): string {
  return `INSERT INTO raft_entries (${ENTRY_COLUMNS}) VALUES ${Array.from({ length: rows }, () => ENTRY_ROW).join(', ')}`;
}

/** The state row's columns in writeState's parameter order (after k = 1). */
export const STATE_COLUMNS = [
  'version',
  'term',
  'vote',
  'commit_index',
  'batch',
  'snap_index',
  'snap_term',
  'snap_conf',
  'crc',
] as const;

const ENTRY_COLUMNS = 'idx, term, type, data, crc, batch';
const ENTRY_ROW = '(?, ?, ?, ?, ?, ?)';
/** Values bound per entry row (ENTRY_COLUMNS, ENTRY_ROW). */
export const FIELDS_PER_ROW = 6;

export const RAFT_LOG_WRITE_SQL = {
  /** insert[i] writes INSERT_ROW_COUNTS[i] rows. */
  insert: INSERT_ROW_COUNTS.map(insertRowsSql),
  deleteFrom: 'DELETE FROM raft_entries WHERE idx >= ?',
  // Rows (after, upTo]: compaction sweeps the rows a snapshot covers in bounded ranges.
  deleteRange: 'DELETE FROM raft_entries WHERE idx > ? AND idx <= ?',
  deleteAll: 'DELETE FROM raft_entries',
  // Positional: better-sqlite3 binds named parameters by a property lookup per name and call.
  writeState: `INSERT OR REPLACE INTO raft_state (k, ${STATE_COLUMNS.join(', ')}) VALUES (1, ${STATE_COLUMNS.map(() => '?').join(', ')})`,
} as const;

/** writeState's parameters for a state row, in STATE_COLUMNS order. */
export function stateParams(row: StateRow): (string | number | null)[] {
  return [
    row.version,
    row.term,
    row.vote,
    row.commit_index,
    row.batch,
    row.snap_index,
    row.snap_term,
    row.snap_conf,
    row.crc,
  ];
}

export const RAFT_LOG_RANGE_SQL = `SELECT ${ENTRY_COLUMNS} FROM raft_entries WHERE idx >= ? AND idx < ? ORDER BY idx`;
