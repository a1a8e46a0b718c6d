import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';
import type { SnapshotWriter, StateRecord, StateRecordId } from '../limiter/types.js';
import { openLimiterFile } from './limiter-file.js';
import {
  mapRows,
  metaRecord,
  overrideRecord,
  requestRecord,
  ruleRecord,
  windowRecord,
} from './limiter-rows.js';
import { ensureLimiterSchema, STATE_TABLES } from './limiter-schema.js';
import { WINDOW_ROW_BYTES_DEFAULT } from './limiter-snapshot-pages.js';
import { LimiterSnapshotReader } from './limiter-snapshot-reader.js';
import {
  type LimiterStatements,
  prepareLimiterStatements,
  WINDOW_BATCH_ROWS,
} from './limiter-statements.js';
import type { Durability } from './sqlite-open.js';
import {
  WAL_AUTOCHECKPOINT_BACKSTOP_PAGES,
  WAL_AUTOCHECKPOINT_FALLBACK_PAGES,
  WalCheckpointer,
} from './wal-checkpointer.js';

export interface SnapshotStoreOptions {
  /** Where a failed checkpoint worker is reported. */
  warn?: (message: string) => void;
  /** 'fsync': each snapshot commits at synchronous=FULL (default 'normal'). */
  durability?: Durability;
}

/**
 * The limiter state machine's snapshot in SQLite (one file per node's state machine, or per
 * embedded RateLimiter). Implements the engine's SnapshotWriter: each snapshot is one
 * transaction, and the applied index it covers is written in that same transaction.
 */
export class LimiterSnapshotStore implements SnapshotWriter {
  private readonly db: Database.Database;
  private readonly sql: LimiterStatements;
  /** The index of the snapshot being written, or -1 when none is open. */
  private pendingIndex = -1;
  private closeFile: (() => void) | null = null;
  /**
   * openFile's stores: the WAL is checkpointed by a worker after each snapshot. SQLite's own
   * checkpoint ran inside the commit that crossed its threshold, on the event loop: with 1M
   * keys, the longest snapshot turn was that commit, 83 ms at --snapshot-every 2000 and 118 ms
   * at 20000 (bench/raft-snapshot.ts), copying tens of MB of WAL into the database file; with
   * the worker the commit takes 6-8 ms and 8-10 ms (the longest turn at 2000: 11-16 ms).
   */
  private checkpointer: WalCheckpointer | null = null;
  /**
   * Window puts not yet written: (rule, key, data) triples, written WINDOW_BATCH_ROWS rows per
   * statement. Any other operation writes them first, so the order of operations is kept.
   */
  private readonly windowArgs: Array<string | Buffer> = [];
  /** Window rows put in the open snapshot and their size (rule and key lengths, data bytes). */
  private windowRows = 0;
  private windowBytes = 0;
  /** Mean bytes of a window row in the last committed snapshot that wrote any (page estimate). */
  private windowRowBytesLast = WINDOW_ROW_BYTES_DEFAULT;

  /**
   * A node's state file, readable by a second connection while this one writes (see
   * openReader); close() closes it. Other callers pass their own connection to the constructor.
   */
  static openFile(path: string, options: SnapshotStoreOptions = {}): LimiterSnapshotStore {
    const file = openLimiterFile(path, options.durability);
    try {
      const store = new LimiterSnapshotStore(file.db);
      store.closeFile = file.close;
      store.startCheckpointer(path, options.warn);
      return store;
    } catch (err) {
      file.close();
      throw err;
    }
  }

  constructor(db: Database.Database) {
    ensureLimiterSchema(db);
    this.db = db;
    this.sql = prepareLimiterStatements(db);
  }

  private startCheckpointer(path: string, warn: ((message: string) => void) | undefined): void {
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_BACKSTOP_PAGES}`);
    // Snapshots commit seconds apart and the worker catches up between them, so the committing
    // thread never runs a catch-up checkpoint itself (it would copy the snapshot just written).
    this.checkpointer = new WalCheckpointer(path, () => {}, {
      restartFrames: Number.MAX_SAFE_INTEGER,
      warn,
      fallBack: () => {
        if (this.db.open)
          this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_FALLBACK_PAGES}`);
      },
    });
  }

  /** WAL checkpoints by the worker (null without one: a store on a caller's connection). */
  checkpointStats(): ReturnType<WalCheckpointer['stats']> | null {
    return this.checkpointer?.stats() ?? null;
  }

  /** The log index (or journal sequence) the stored snapshot covers; 0 for an empty store. */
  get appliedIndex(): number {
    const row = this.sql.getStore.get('applied_index') as { value: number } | undefined;
    return row?.value ?? 0;
  }

  begin(appliedIndex: number, mode: 'full' | 'incremental'): void {
    if (this.pendingIndex >= 0) throw new DrlError('internal', 'a snapshot is already open');
    const stored = this.appliedIndex;
    if (!Number.isSafeInteger(appliedIndex) || appliedIndex < stored) {
      throw new DrlError('internal', `snapshot index ${appliedIndex} is behind stored ${stored}`);
    }
    this.db.exec('BEGIN');
    this.pendingIndex = appliedIndex;
    this.windowRows = 0;
    this.windowBytes = 0;
    if (mode === 'full') {
      for (const table of STATE_TABLES) this.db.exec(`DELETE FROM ${table}`);
    }
  }

  put(record: StateRecord): void {
    this.assertOpen();
    const sql = this.sql;
    if (record.kind === 'window') {
      const args = this.windowArgs;
      args.push(record.rule, record.key, asBuffer(record.data));
      this.windowRows++;
      this.windowBytes += record.rule.length + record.key.length + record.data.byteLength;
      if (args.length === WINDOW_BATCH_ROWS * 3) {
        sql.putWindows.run(args);
        args.length = 0;
      }
      return;
    }
    this.flushWindows();
    switch (record.kind) {
      case 'meta':
        sql.putMeta.run(record.name, record.value);
        return;
      case 'rule':
        sql.putRule.run(
          record.name,
          record.spec.limit,
          record.spec.windowMs,
          record.spec.algorithm ?? null,
          record.spec.burst ?? null,
        );
        return;
      case 'override':
        sql.putOverride.run(record.rule, record.key, record.spec.limit, record.spec.windowMs);
        return;
      case 'request': {
        const d = record.decision;
        sql.putRequest.run(
          record.id,
          record.fingerprint,
          record.ts,
          d.allowed ? 1 : 0,
          d.limit,
          d.remaining,
          d.resetMs,
          d.retryAfterMs,
          record.seq ?? null,
          record.logIndex ?? null,
        );
        return;
      }
    }
  }

  delete(id: StateRecordId): void {
    this.assertOpen();
    this.flushWindows();
    const sql = this.sql;
    switch (id.kind) {
      case 'meta':
        sql.deleteMeta.run(id.name);
        return;
      case 'rule':
        sql.deleteRule.run(id.name);
        return;
      case 'override':
        sql.deleteOverride.run(id.rule, id.key);
        return;
      case 'window':
        sql.deleteWindow.run(id.rule, id.key);
        return;
      case 'request':
        sql.deleteRequest.run(id.id);
        return;
    }
  }

  commit(): void {
    this.assertOpen();
    const index = this.pendingIndex;
    try {
      this.flushWindows();
      this.sql.putStore.run('applied_index', index);
      this.db.exec('COMMIT');
    } catch (err) {
      this.abort();
      throw err;
    }
    this.pendingIndex = -1;
    if (this.windowRows > 0) {
      // Plus SQLite's own per-row bytes (record header, cell pointer, key prefix).
      this.windowRowBytesLast = this.windowBytes / this.windowRows + ROW_OVERHEAD_BYTES;
    }
    this.checkpointer?.afterCommit();
  }

  /** Mean bytes of a window row, as the last snapshot that wrote some measured them. */
  get windowRowBytes(): number {
    return this.windowRowBytesLast;
  }

  /** True while a snapshot transaction is open (between begin and commit/abort). */
  get writing(): boolean {
    return this.pendingIndex >= 0;
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /**
   * The last committed snapshot through a connection of its own (a consistent view that later
   * commits do not change), or null when this connection cannot be shared (opened EXCLUSIVE or
   * in memory: see openFile).
   */
  openReader(): LimiterSnapshotReader | null {
    return LimiterSnapshotReader.open(this.db);
  }

  /** Closes a file opened by openFile (an open snapshot is rolled back). */
  close(): void {
    this.abort();
    // The worker's connection closes first, so this one closes last (and checkpoints).
    this.checkpointer?.close();
    if (this.closeFile) this.closeFile();
    else this.db.close();
  }

  /** Drops an open snapshot (the engine threw midway); the stored one is left as it was. */
  abort(): void {
    this.windowArgs.length = 0;
    if (this.pendingIndex < 0) return;
    this.pendingIndex = -1;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  /** Every stored record, streamed (a million windows are never all in memory as rows). */
  *records(): Generator<StateRecord> {
    if (this.pendingIndex >= 0) throw new DrlError('internal', 'cannot read during a snapshot');
    const sql = this.sql;
    yield* mapRows(sql.allMeta, metaRecord);
    yield* mapRows(sql.allRules, ruleRecord);
    yield* mapRows(sql.allOverrides, overrideRecord);
    yield* mapRows(sql.allWindows, windowRecord);
    yield* mapRows(sql.allRequests, requestRecord);
  }

  /** Writes the window puts held back for a full statement, one row per statement. */
  private flushWindows(): void {
    const args = this.windowArgs;
    for (let i = 0; i < args.length; i += 3) {
      this.sql.putWindow.run(args[i], args[i + 1], args[i + 2]);
    }
    args.length = 0;
  }

  private assertOpen(): void {
    if (this.pendingIndex < 0) throw new DrlError('internal', 'no snapshot is open (call begin)');
  }
}

/** SQLite's bytes per row beyond its values: cell pointer, record header, varints. */
const ROW_OVERHEAD_BYTES = 12;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
