/**
 * Opening a node's limiter state file so that a second connection can read it while the owner
 * writes: WAL with NORMAL locking (the shared-memory index lets readers hold their own snapshot,
 * which InstallSnapshot streams from). The "one owner" guarantee that EXCLUSIVE locking gives
 * other state files is kept by an exclusively locked sidecar file, `<path>.owner`.
 */
import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';
import { type Durability, loadSqlite, openExclusiveDatabase } from './sqlite-open.js';

export interface LimiterFile {
  db: Database.Database;
  /** Closes the state file, then releases the owner lock. */
  close(): void;
}

const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** `durability` 'fsync': synchronous=FULL, each commit fsyncs the WAL (the default NORMAL does not). */
export function openLimiterFile(path: string, durability: Durability = 'normal'): LimiterFile {
  const owner = openExclusiveDatabase(`${path}.owner`);
  let db: Database.Database;
  try {
    db = new (loadSqlite())(path, { timeout: 0 });
  } catch (err) {
    owner.close();
    throw new DrlError('storage_corrupt', `cannot open ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  } catch (err) {
    db.close();
    owner.close();
    throw new DrlError('storage_corrupt', `cannot open ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    db,
    close() {
      if (db.open) db.close();
      if (owner.open) owner.close();
    },
  };
}

/**
 * A read-only connection to a file another connection of this process owns, or null when the
 * owner's connection cannot share it (in memory, or EXCLUSIVE locking).
 */
export function openSharedReader(owner: Database.Database): Database.Database | null {
  if (owner.memory) return null;
  const mode = owner.pragma('locking_mode', { simple: true }) as string;
  if (mode.toLowerCase() === 'exclusive') return null;
  return new (loadSqlite())(owner.name, { readonly: true, fileMustExist: true, timeout: 1000 });
}
