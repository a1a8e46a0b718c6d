import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';

/** Bump when a table changes shape; a file written by another version is refused, not guessed at. */
export const LIMITER_SCHEMA_VERSION = 3;

// WITHOUT ROWID: the primary key is the lookup key, so one b-tree per table instead of two.
const TABLES = `
CREATE TABLE IF NOT EXISTS limiter_store (
  name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limiter_meta (
  name TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limiter_rules (
  name TEXT PRIMARY KEY, lim INTEGER NOT NULL, window_ms INTEGER NOT NULL,
  algorithm TEXT, burst INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limiter_overrides (
  rule TEXT NOT NULL, key TEXT NOT NULL, lim INTEGER NOT NULL, window_ms INTEGER NOT NULL,
  PRIMARY KEY (rule, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limiter_windows (
  rule TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (rule, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limiter_requests (
  id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, ts INTEGER NOT NULL,
  allowed INTEGER NOT NULL, lim INTEGER NOT NULL, remaining INTEGER NOT NULL,
  reset_ms INTEGER NOT NULL, retry_after_ms INTEGER, seq INTEGER, log_index INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limiter_journal (
  seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL,
  rule TEXT, key TEXT, cost INTEGER, lim INTEGER, window_ms INTEGER, request_id TEXT, body TEXT);
`;

/** The tables a full snapshot replaces (the journal and the store's own rows are not state). */
export const STATE_TABLES = [
  'limiter_meta',
  'limiter_rules',
  'limiter_overrides',
  'limiter_windows',
  'limiter_requests',
] as const;

/** Creates the limiter tables if missing and checks the file's schema version. */
export function ensureLimiterSchema(db: Database.Database): void {
  db.exec(TABLES);
  const row = db.prepare('SELECT value FROM limiter_store WHERE name = ?').get('schema_version') as
    | { value: number }
    | undefined;
  if (row === undefined) {
    db.prepare('INSERT INTO limiter_store (name, value) VALUES (?, ?)').run(
      'schema_version',
      LIMITER_SCHEMA_VERSION,
    );
  } else if (row.value === 1 || row.value === 2) {
    // Version 2 added limiter_requests.log_index (a retry names the entry that first decided it).
    // Version 3 may store a sliding-log key as the compact one-window record
    // (src/limiter/sliding-log-record.ts), which a version 2 reader would refuse: the number
    // moves so an older binary refuses the whole file up front. Old rows are read as they are.
    db.transaction(() => {
      if (row.value === 1) db.exec('ALTER TABLE limiter_requests ADD COLUMN log_index INTEGER');
      db.prepare('UPDATE limiter_store SET value = ? WHERE name = ?').run(
        LIMITER_SCHEMA_VERSION,
        'schema_version',
      );
    })();
  } else if (row.value !== LIMITER_SCHEMA_VERSION) {
    throw new DrlError(
      'storage_corrupt',
      `limiter schema version ${row.value} is not the supported ${LIMITER_SCHEMA_VERSION}`,
    );
  }
}
