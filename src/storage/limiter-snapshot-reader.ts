import type Database from 'better-sqlite3';
import type { StateRecord } from '../limiter/types.js';
import { openSharedReader } from './limiter-file.js';
import {
  mapRows,
  metaRecord,
  overrideRecord,
  requestRecord,
  ruleRecord,
  windowRecord,
} from './limiter-rows.js';
import { SELECT_ALL_SQL } from './limiter-statements.js';

/**
 * The last durable limiter snapshot, read through its own connection inside one read
 * transaction: the view stays at `index` while the owner keeps committing newer snapshots
 * (WAL readers keep their snapshot), so the records can be pulled a slice at a time across
 * event-loop turns. Close it when done (an open reader holds the WAL from being checkpointed).
 */
export class LimiterSnapshotReader {
  readonly index: number;
  private readonly db: Database.Database;
  private iterator: Generator<StateRecord> | null = null;

  private constructor(db: Database.Database) {
    this.db = db;
    db.exec('BEGIN');
    const row = db.prepare('SELECT value FROM limiter_store WHERE name = ?').get('applied_index') as
      | { value: number }
      | undefined;
    this.index = row?.value ?? 0;
  }

  /** null when the owner's connection cannot be shared (in memory or EXCLUSIVE locking). */
  static open(owner: Database.Database): LimiterSnapshotReader | null {
    const db = openSharedReader(owner);
    if (db === null) return null;
    try {
      return new LimiterSnapshotReader(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Every record of the snapshot, streamed (the same order on every call). */
  records(): Generator<StateRecord> {
    if (this.iterator !== null) throw new Error('limiter snapshot reader: records() twice');
    this.iterator = this.generate();
    return this.iterator;
  }

  close(): void {
    if (!this.db.open) return;
    // An unfinished iteration holds a statement open: end it before the transaction.
    this.iterator?.return(undefined);
    this.db.exec('ROLLBACK');
    this.db.close();
  }

  private *generate(): Generator<StateRecord> {
    const db = this.db;
    yield* mapRows(db.prepare(SELECT_ALL_SQL.meta), metaRecord);
    yield* mapRows(db.prepare(SELECT_ALL_SQL.rules), ruleRecord);
    yield* mapRows(db.prepare(SELECT_ALL_SQL.overrides), overrideRecord);
    yield* mapRows(db.prepare(SELECT_ALL_SQL.windows), windowRecord);
    yield* mapRows(db.prepare(SELECT_ALL_SQL.requests), requestRecord);
  }
}
