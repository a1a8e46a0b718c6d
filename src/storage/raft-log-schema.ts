import type Database from 'better-sqlite3';
import { WAL_AUTOCHECKPOINT_BACKSTOP_PAGES } from './wal-checkpointer.js';

/**
 * SQLite layout of the Raft log. One row per entry (checksummed), one row of hard state +
 * snapshot metadata (checksummed too). `batch` numbers each group commit so that recovery can
 * tell the last transaction's rows from older ones (see the torn-tail rule in raft-log-recovery).
 */
export const SCHEMA_VERSION = 1;

/** The former setting: automatic checkpoints inside commits, rarer than SQLite's default. */
export const WAL_AUTOCHECKPOINT_INLINE_PAGES = 4000;

export function applySchema(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // FULL: the WAL is fsynced at every commit, so a returned persist() is durable.
  db.pragma('synchronous = FULL');
  // Checkpoints run in a worker (WalCheckpointer); this automatic one is only the backstop
  // should that worker stall or die, so that the WAL stays bounded.
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_BACKSTOP_PAGES}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS raft_entries (
      idx   INTEGER PRIMARY KEY,
      term  INTEGER NOT NULL,
      type  INTEGER NOT NULL,
      data  BLOB    NOT NULL,
      crc   INTEGER NOT NULL,
      batch INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS raft_state (
      k            INTEGER PRIMARY KEY CHECK (k = 1),
      version      INTEGER NOT NULL,
      term         INTEGER NOT NULL,
      vote         TEXT,
      commit_index INTEGER NOT NULL,
      batch        INTEGER NOT NULL,
      snap_index   INTEGER NOT NULL,
      snap_term    INTEGER NOT NULL,
      snap_conf    TEXT,
      crc          INTEGER NOT NULL
    );
  `);
}

export interface StateRow {
  version: number;
  term: number;
  vote: string | null;
  commit_index: number;
  batch: number;
  snap_index: number;
  snap_term: number;
  snap_conf: string | null;
  crc: number;
}
