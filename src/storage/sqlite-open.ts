import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';

/** 'normal': WAL + synchronous=NORMAL (survives a process kill); 'fsync': synchronous=FULL (a power cut). */
export type Durability = 'normal' | 'fsync';

export interface OpenOptions {
  durability?: Durability;
  /**
   * WAL pages between automatic checkpoints (SQLite's default is 1000). A checkpoint fsyncs and
   * copies pages into the main file; at one small commit per decision the default made it a
   * large share of each commit's cost, so we let the WAL grow to ~40 MB before one.
   */
  walAutocheckpointPages?: number;
}

const WAL_AUTOCHECKPOINT_PAGES_DEFAULT = 10_000;

/**
 * Opens a SQLite file that one connection owns for its whole life. EXCLUSIVE locking mode is
 * set before WAL so SQLite never creates the shared-memory index (cheaper commits), and the
 * write lock is taken at once so a second opener — another process, or another connection in
 * this one — fails here with a clear error instead of blocking or interleaving writes.
 */
/**
 * better-sqlite3 is loaded on first use, not at import: `import { Client } from
 * 'distributed-rate-limiter'` and an in-memory RateLimiter must not load a native addon.
 */
let sqlite: typeof Database | undefined;
export function loadSqlite(): typeof Database {
  sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return sqlite;
}

export function openExclusiveDatabase(path: string, options: OpenOptions = {}): Database.Database {
  let db: Database.Database;
  try {
    db = new (loadSqlite())(path, { timeout: 0 });
  } catch (err) {
    throw new DrlError('storage_corrupt', `cannot open ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
    const pages = options.walAutocheckpointPages ?? WAL_AUTOCHECKPOINT_PAGES_DEFAULT;
    if (!Number.isSafeInteger(pages) || pages < 0) throw new Error('walAutocheckpointPages');
    db.pragma(`wal_autocheckpoint = ${pages}`);
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new DrlError(
        'storage_locked',
        `${path} is already open by another process or RateLimiter; a state file has one owner`,
        { cause: err },
      );
    }
    throw new DrlError('storage_corrupt', `cannot open ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return db;
}
