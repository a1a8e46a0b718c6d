import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';
import type { ConfState, Entry, HardState, SnapshotMeta } from '../raft/types.js';
import { entryChecksum } from './raft-crc32.js';
import { checkPersistBatch, isCommitOnly } from './raft-log-batch-check.js';
import { checkEntriesRange, termAt, WriteFailure } from './raft-log-guard.js';
import { rowToEntry, scanLog, stateChecksum, verifyStateRow } from './raft-log-recovery.js';
import {
  applySchema,
  SCHEMA_VERSION,
  type StateRow,
  WAL_AUTOCHECKPOINT_INLINE_PAGES,
} from './raft-log-schema.js';
import {
  FIELDS_PER_ROW,
  INSERT_ROW_COUNTS,
  RAFT_LOG_RANGE_SQL,
  RAFT_LOG_WRITE_SQL,
  stateParams,
} from './raft-log-sql.js';
import type { PersistBatch, PersistDone, RaftLogStorage } from './raft-log-storage.js';
import { RaftLogWriter, ROW_FIELDS, type WriteDone, type WriteOp } from './raft-log-writer.js';
import { loadSqlite } from './sqlite-open.js';
import {
  WAL_AUTOCHECKPOINT_BACKSTOP_PAGES,
  WAL_AUTOCHECKPOINT_FALLBACK_PAGES,
  WalCheckpointer,
} from './wal-checkpointer.js';
import { WalFdatasync } from './wal-fdatasync.js';

/** How writes become durable (RaftLogStoreOptions.writes), the one list of them. */
export type { PersistBatch, PersistDone } from './raft-log-storage.js';

export const LOG_WRITE_MODES = ['sync', 'worker', 'pool'] as const;
export type LogWriteMode = (typeof LOG_WRITE_MODES)[number];

export interface RaftLogStoreOptions {
  /** Called with the duration of every committed transaction (one fsync each). */
  onSync?: (durationMs: number, entries: number) => void;
  /** Warns when a torn tail is truncated on open, or the checkpoint worker fails. */
  warn?: (message: string) => void;
  /** Minimum time between two WAL checkpoints (run by a worker thread). */
  checkpointIntervalMs?: number;
  /** WAL size in pages beyond which it is made to restart from its beginning. */
  walRestartFrames?: number;
  /**
   * 'worker' (default): a worker thread checkpoints the WAL (WalCheckpointer). 'inline':
   * SQLite's automatic checkpoint every WAL_AUTOCHECKPOINT_INLINE_PAGES pages, inside a commit
   * on this thread (the former behaviour; kept for comparison in bench/raft-store-micro.ts).
   */
  walCheckpoints?: 'worker' | 'inline';
  /**
   * 'sync' (default): persist() commits on the calling thread. 'worker': the write connection
   * lives in a worker thread (RaftLogWriter) and persistAsync() answers once durable; the
   * calling thread keeps a read connection. Not with walCheckpoints 'inline'. 'pool': commits
   * on the calling thread with synchronous=NORMAL (no fsync there) and persistAsync() answers
   * once an fdatasync of the WAL on libuv's thread pool finished (WalFdatasync).
   */
  writes?: LogWriteMode;
}

/** A planned SQL operation; entry rows still as entries (packed when posted to the writer). */
type PlannedOp = Exclude<WriteOp, { k: 'rows' }> | { k: 'rows'; entries: Entry[]; batch: number };

/**
 * The Raft log, hard state and snapshot metadata in one SQLite file (WAL, synchronous=FULL).
 * persist() is one transaction = one fsync per Ready (group commit). It is a LogView, so the core
 * restarts from what is on disk alone.
 */
export class RaftLogStore implements RaftLogStorage {
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  /** JSON of snapshot.conf, computed once per snapshot (the state row carries it every commit). */
  private snapConfJson: string | null = null;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly onSync: RaftLogStoreOptions['onSync'];
  private readonly warn: RaftLogStoreOptions['warn'];
  /** terms[i] = term of entry snapIndex + 1 + i. */
  private terms: number[];
  /** Recent entries, contiguous, ending at lastIndex. */
  private batch: number;
  private readonly failure: WriteFailure;
  private synchronousFull = true;
  /** The in-memory commit index is ahead of the state row on disk (commit-only batches). */
  private commitUnwritten = false;
  private readonly stmts: ReturnType<typeof prepare>;
  private readonly runTx: (ops: PlannedOp[]) => void;
  /** Operations of the write being planned (in-memory view already updated). */
  private plan: PlannedOp[] = [];
  /** Parameters of each INSERT_ROW_COUNTS statement, kept for the store's life. */
  private readonly insertParams = INSERT_ROW_COUNTS.map((rows) =>
    new Array<unknown>(rows * FIELDS_PER_ROW).fill(null),
  );
  private readonly writer: RaftLogWriter | null;
  /** writes 'pool': the WAL's fdatasync off this thread. */
  private readonly walSync: WalFdatasync | null;
  private readonly checkpointer: WalCheckpointer;
  private readonly checkpointsInline: boolean;
  /**
   * Compaction's garbage: rows at or below the snapshot index still in the table are swept in
   * ranges of at most SWEEP_ROWS_MAX, one per later write (rows (sweptUpTo, snapIndex] left).
   * Deleting a whole snapshot interval at once cost ~0.7 ms on every node at the same index,
   * and the next fsync carried its pages: a 3-4 ms hiccup every 2,000 entries in bench:raft.
   */
  private sweptUpTo = 0;

  static open(path: string, options: RaftLogStoreOptions = {}): RaftLogStore {
    return new RaftLogStore(path, options);
  }

  private constructor(path: string, options: RaftLogStoreOptions) {
    this.path = path;
    this.failure = new WriteFailure(path);
    this.onSync = options.onSync;
    this.warn = options.warn;
    this.db = new (loadSqlite())(path);
    try {
      applySchema(this.db);
      this.stmts = prepare(this.db);
      const state = this.loadState();
      const recovered = scanLog(this.db, path, state);
      if (recovered.tornFrom !== null) {
        this.db.prepare(RAFT_LOG_WRITE_SQL.deleteFrom).run(recovered.tornFrom);
        options.warn?.(`${path}: truncated torn log tail from index ${recovered.tornFrom}`);
      }
      this.terms = recovered.terms;
      this.batch = state.batch;
      this.hardState = { term: state.term, vote: state.vote, commit: state.commit_index };
      this.snapshot = state.snap_conf
        ? {
            index: state.snap_index,
            term: state.snap_term,
            conf: JSON.parse(state.snap_conf) as ConfState,
          }
        : null;
      this.snapConfJson = state.snap_conf;
      this.sweptUpTo = this.lowestRow() - 1;
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.checkpointsInline = options.walCheckpoints === 'inline';
    if (this.checkpointsInline)
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_INLINE_PAGES}`);
    this.checkpointer = new WalCheckpointer(path, () => this.checkpointHere(), {
      intervalMs: options.checkpointIntervalMs,
      restartFrames: options.walRestartFrames,
      warn: options.warn,
      fallBack: () => {
        if (this.db.open)
          this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_FALLBACK_PAGES}`);
      },
    });
    this.runTx = this.db.transaction((ops: PlannedOp[]) => this.runOps(ops));
    this.writer =
      options.writes === 'worker' ? this.openWriter(path, options.walCheckpoints) : null;
    this.walSync = options.writes === 'pool' ? this.openWalSync() : null;
  }

  /** writes 'pool': NORMAL for good (commits never fsync here), the WAL synced off the loop. */
  private openWalSync(): WalFdatasync {
    try {
      this.setSynchronous(false);
      return new WalFdatasync(this.path);
    } catch (err) {
      this.checkpointer.close();
      this.db.close();
      throw err;
    }
  }

  private openWriter(path: string, checkpoints: RaftLogStoreOptions['walCheckpoints']) {
    if (checkpoints === 'inline') {
      throw new DrlError('invalid_argument', 'raft log: worker writes need worker checkpoints');
    }
    try {
      return new RaftLogWriter(path, WAL_AUTOCHECKPOINT_BACKSTOP_PAGES, this.warn);
    } catch (err) {
      this.checkpointer.close();
      this.db.close();
      throw err;
    }
  }

  firstIndex(): number {
    return this.snapIndex() + 1;
  }

  lastIndex(): number {
    return this.snapIndex() + this.terms.length;
  }

  term(index: number): number {
    return termAt(this.terms, this.snapshot, index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    checkEntriesRange(this.terms, this.snapshot, lo, hi);
    // No entry cache: the core keeps its own log in memory and reads the store only when it
    // loads. (A cache here held every entry a second time in an array the leader kept growing
    // and slicing, which promoted entries to the old generation.)
    if (this.writesInFlight() > 0) {
      // The read connection sees only committed transactions: rows in flight are not there yet.
      throw new DrlError(
        'internal',
        `raft log: entries(${lo}, ${hi}) read while writes are in flight`,
      );
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (const row of this.stmts.range.iterate(lo, hi) as IterableIterator<RawEntryRow>) {
      bytes += row.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(rowToEntry(row));
    }
    return out;
  }

  /**
   * Test bug 'ack-before-fsync' only: opens an outer transaction that persist() writes into (as
   * savepoints) until releaseHeldWrites(). Reads see the writes at once, the disk does not: a
   * SIGKILL before the release loses everything persisted (and acknowledged) since the hold.
   */
  holdWrites(): void {
    if (this.writer || this.walSync)
      throw new DrlError('invalid_argument', 'raft log: held writes need sync writes');
    if (!this.db.inTransaction) this.db.exec('BEGIN IMMEDIATE');
  }

  releaseHeldWrites(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
  }

  /**
   * Writes snapshot meta, entries (truncating any conflicting suffix) and hard state in one
   * fsync. A batch that moves nothing but the commit index writes nothing: the commit index is
   * kept in memory and reaches the disk with the next transaction's state row. A commit index
   * lost in a crash is relearned from the leader, and the state machine's applied index raises
   * it on restart (RaftLog.load); entries, term, vote and snapshots are always durable before
   * persist() returns (they are what the messages sent next depend on).
   */
  persist(batch: PersistBatch): void {
    if (this.writer) throw new DrlError('internal', 'raft log: worker writes go via persistAsync');
    if (!this.prepareBatch(batch)) return;
    if (!this.walSync) this.setSynchronous(true);
    const started = performance.now();
    this.failure.guard(() => {
      this.runTx(this.takePlan());
      this.walSync?.syncHere();
    });
    this.onSync?.(performance.now() - started, batch.entries.length);
    this.afterCommit();
  }

  /**
   * persist() through the writer thread: validated and applied to this store's in-memory view
   * at once (so the next batch validates against it), durable when `done(null)` runs. Returns
   * false when nothing had to be written (`done` is not called): the batch was empty or moved
   * only the commit index. Batches become durable in the order they were posted. A failed write
   * poisons the store (every later call throws): the node must restart from disk.
   */
  persistAsync(batch: PersistBatch, done: PersistDone): boolean {
    if (this.walSync) return this.persistPooled(this.walSync, batch, done);
    const writer = this.writer;
    if (!writer) throw new DrlError('internal', 'raft log: persistAsync needs async writes');
    if (!this.prepareBatch(batch)) return false;
    const entries = batch.entries.length;
    this.post(writer, true, (d) => {
      if (!d.error) {
        this.onSync?.(d.ms, entries);
        this.afterCommit();
      }
      done(d.error);
    });
    return true;
  }

  /**
   * writes 'pool': the transaction commits here (no fsync: synchronous=NORMAL), then the WAL's
   * fdatasync runs on the thread pool. A failed fdatasync poisons the store like a failed
   * write: whether the frames reached the disk is unknown.
   */
  private persistPooled(walSync: WalFdatasync, batch: PersistBatch, done: PersistDone): boolean {
    if (!this.prepareBatch(batch)) return false;
    const entries = batch.entries.length;
    this.failure.guard(() => this.runTx(this.takePlan()));
    this.afterCommit();
    walSync.sync((err, ms) => {
      if (err) {
        this.failure.error ??= err;
      } else {
        this.onSync?.(ms, entries);
      }
      done(err);
    });
    return true;
  }

  /** Writes posted (to the writer thread, or to the WAL's fdatasync) and not durable yet. */
  writesInFlight(): number {
    return this.writer?.inFlight ?? this.walSync?.pending ?? 0;
  }

  /** Validates, updates the in-memory view and plans the SQL; false if nothing to write. */
  private prepareBatch(batch: PersistBatch): boolean {
    if (!batch.snapshot && batch.entries.length === 0 && !batch.hardState) return false;
    this.failure.check();
    checkPersistBatch(batch, {
      snapIndex: this.snapIndex(),
      last: this.lastIndex(),
      hardState: this.hardState,
    });
    if (isCommitOnly(batch, this.hardState)) {
      this.hardState = { ...this.hardState, commit: batch.hardState!.commit };
      this.commitUnwritten = true;
      return false;
    }
    this.failure.guard(() => this.writeBatch(batch));
    this.commitUnwritten = false;
    return true;
  }

  private takePlan(): PlannedOp[] {
    const ops = this.plan;
    this.plan = [];
    return ops;
  }

  /** Posts the planned operations as one transaction of the writer thread. */
  private post(writer: RaftLogWriter, full: boolean, done: (d: WriteDone) => void): void {
    const planned = this.takePlan();
    let rowCount = 0;
    let bytes = 0;
    for (const op of planned) {
      if (op.k !== 'rows') continue;
      rowCount += op.entries.length;
      for (const e of op.entries) bytes += e.data.length;
    }
    const rows = new Float64Array(rowCount * ROW_FIELDS);
    const blob = new Uint8Array(bytes);
    const ops: WriteOp[] = [];
    let r = 0;
    let off = 0;
    for (const op of planned) {
      if (op.k !== 'rows') {
        ops.push(op);
        continue;
      }
      ops.push({ k: 'rows', from: r, count: op.entries.length });
      for (const e of op.entries) {
        const o = r * ROW_FIELDS;
        rows[o] = e.index;
        rows[o + 1] = e.term;
        rows[o + 2] = e.type;
        rows[o + 3] = entryChecksum(e.index, e.term, e.type, e.data);
        rows[o + 4] = op.batch;
        rows[o + 5] = off;
        rows[o + 6] = e.data.length;
        blob.set(e.data, off);
        off += e.data.length;
        r++;
      }
    }
    this.failure.guard(() => writer.post({ ops, full, rows, blob }, done));
  }

  private runOps(ops: PlannedOp[]): void {
    for (const op of ops) {
      switch (op.k) {
        case 'rows':
          this.insertRows(op.entries, op.batch);
          break;
        case 'deleteAll':
          this.stmts.deleteAll.run();
          break;
        case 'deleteFrom':
          this.stmts.deleteFrom.run(op.index);
          break;
        case 'deleteRange':
          this.stmts.deleteRange.run(op.after, op.upTo);
          break;
        case 'state':
          this.stmts.writeState.run(stateParams(op.row));
          break;
        case 'checkpoint':
          this.db.pragma('wal_checkpoint(PASSIVE)');
          break;
      }
    }
  }

  /** Commit-only batches not written since the last transaction (tests, close()). */
  hasUnwrittenCommit(): boolean {
    return this.commitUnwritten;
  }

  /** WAL checkpoint counters (the worker's). */
  checkpointStats(): ReturnType<WalCheckpointer['stats']> {
    return this.checkpointer.stats();
  }

  /**
   * The catch-up checkpoint (see WalCheckpointer). Never fails a persist() that already
   * committed: skipped inside held writes (test bug), and an error only warns.
   */
  private checkpointHere(): void {
    if (this.writer) {
      // On the writer's connection, between two of its transactions: off this thread too.
      if (this.writer.inFlight < 2) {
        this.plan.push({ k: 'checkpoint' });
        this.post(this.writer, true, (d) => {
          if (d.error) this.warn?.(`${this.path}: WAL checkpoint failed: ${d.error.message}`);
        });
      }
      return;
    }
    if (this.db.inTransaction) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      this.warn?.(`${this.path}: WAL checkpoint failed: ${(err as Error).message}`);
    }
  }

  private afterCommit(): void {
    if (!this.checkpointsInline) this.checkpointer.afterCommit();
  }

  private setSynchronous(full: boolean): void {
    // Inside held writes (test bug) SQLite refuses the change, and no commit happens anyway.
    if (full === this.synchronousFull || this.db.inTransaction) return;
    this.db.pragma(full ? 'synchronous = FULL' : 'synchronous = NORMAL');
    this.synchronousFull = full;
  }

  /**
   * Drops entries up to meta.index (a state machine snapshot now covers them). Committed with
   * synchronous=NORMAL, no fsync of its own: losing it in a crash only leaves entries the state
   * machine's durable snapshot already covers, and the next FULL commit of the same WAL makes
   * it durable (WAL frames are synced in order).
   */
  compact(meta: SnapshotMeta): void {
    if (meta.index <= this.snapIndex()) return;
    if (meta.index > this.lastIndex() || this.term(meta.index) !== meta.term) {
      throw new DrlError('internal', `raft log: cannot compact to ${meta.index}/${meta.term}`);
    }
    this.failure.check();
    this.failure.guard(() => this.writeCompaction(meta));
    this.commitUnwritten = false;
    if (this.writer) {
      this.post(this.writer, false, (d) => {
        if (!d.error) this.afterCommit();
      });
      return;
    }
    this.setSynchronous(false);
    this.failure.guard(() => this.runTx(this.takePlan()));
    this.afterCommit();
  }

  close(): void {
    // A commit index held in memory goes to disk (no fsync: a lost one is relearned).
    if (this.commitUnwritten && this.db.open && !this.failure.error && !this.db.inTransaction) {
      try {
        this.writeState();
        if (this.writer) {
          this.post(this.writer, false, () => {});
        } else {
          this.setSynchronous(false);
          this.runTx(this.takePlan());
        }
        this.commitUnwritten = false;
      } catch (err) {
        this.warn?.(`${this.path}: writing the commit index at close failed: ${String(err)}`);
      }
    }
    // The workers' connections first: this one, closing last, checkpoints and removes the WAL.
    this.writer?.close();
    try {
      this.walSync?.close();
    } catch (err) {
      this.warn?.(`${this.path}: syncing the WAL at close failed: ${String(err)}`);
    }
    this.checkpointer.close();
    if (this.db.open) this.db.close();
  }

  private snapIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  private writeBatch(b: PersistBatch): void {
    this.batch++;
    if (b.snapshot) this.installSnapshot(b.snapshot);
    if (b.entries.length > 0) this.appendEntries(b.entries);
    if (b.hardState) this.checkHardState(b.hardState);
    this.planSweep(SWEEP_ROWS_MAX);
    this.writeState();
  }

  /** Index of the lowest row (the snapshot index + 1 when the table holds none below it). */
  private lowestRow(): number {
    const row = this.db.prepare('SELECT MIN(idx) AS m FROM raft_entries').get() as {
      m: number | null;
    };
    return Math.min(row.m ?? Number.POSITIVE_INFINITY, this.snapIndex() + 1);
  }

  /** Plans the deletion of up to `rowsMax` garbage rows (at or below the snapshot index). */
  private planSweep(rowsMax: number): void {
    const snapIndex = this.snapIndex();
    if (this.sweptUpTo >= snapIndex) return;
    const upTo = Math.min(snapIndex, this.sweptUpTo + rowsMax);
    this.plan.push({ k: 'deleteRange', after: this.sweptUpTo, upTo });
    this.sweptUpTo = upTo;
  }

  private installSnapshot(meta: SnapshotMeta): void {
    if (meta.index < this.snapIndex()) {
      throw new DrlError(
        'internal',
        `raft log: snapshot ${meta.index} older than ${this.snapIndex()}`,
      );
    }
    this.plan.push({ k: 'deleteAll' });
    this.setSnapshot(meta);
    this.sweptUpTo = meta.index;
    this.terms = [];
    if (this.hardState.commit < meta.index)
      this.hardState = { ...this.hardState, commit: meta.index };
  }

  private appendEntries(entries: Entry[]): void {
    const first = entries[0]!.index;
    if (first <= this.snapIndex() || first > this.lastIndex() + 1) {
      throw new DrlError(
        'internal',
        `raft log: append at ${first} with log [${this.firstIndex()}, ${this.lastIndex()}]`,
      );
    }
    if (first <= this.lastIndex()) this.truncateFrom(first);
    this.plan.push({ k: 'rows', entries, batch: this.batch });
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index !== first + i) throw new DrlError('internal', 'raft log: entries not contiguous');
      this.terms.push(e.term);
    }
  }

  private truncateFrom(index: number): void {
    if (index <= this.hardState.commit) {
      throw new DrlError('internal', `raft log: truncating committed entry ${index}`);
    }
    this.plan.push({ k: 'deleteFrom', index });
    const keep = index - this.snapIndex() - 1;
    this.terms.length = keep;
  }

  private insertRows(entries: Entry[], batch: number): void {
    // Bound into arrays kept for the store's life: arrays built per call by push were a
    // quarter of what a follower allocated per entry (their growth copies), i.e. of its scavenges.
    let i = 0;
    for (let s = 0; s < INSERT_ROW_COUNTS.length; s++) {
      const rows = INSERT_ROW_COUNTS[s]!;
      const params = this.insertParams[s]!;
      for (; i + rows <= entries.length; i += rows) {
        for (let j = 0; j < rows; j++) setRow(params, j, entries[i + j]!, batch);
        this.stmts.insert[s]!.run(params);
      }
    }
    if (i !== entries.length) throw new DrlError('internal', 'raft log: rows left unwritten');
  }

  private checkHardState(hs: HardState): void {
    const prev = this.hardState;
    if (hs.term < prev.term)
      throw new DrlError('internal', `raft log: term ${prev.term} -> ${hs.term}`);
    if (hs.commit < prev.commit) {
      throw new DrlError('internal', `raft log: commit ${prev.commit} -> ${hs.commit}`);
    }
    if (hs.commit > this.lastIndex()) {
      throw new DrlError(
        'internal',
        `raft log: commit ${hs.commit} beyond last ${this.lastIndex()}`,
      );
    }
    this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  private writeCompaction(meta: SnapshotMeta): void {
    this.batch++;
    const drop = meta.index - this.snapIndex();
    this.terms = this.terms.slice(drop);
    this.setSnapshot(meta);
    // The writer thread deletes the whole range at once (off this loop anyway); here the rows
    // go in bounded ranges with this and the following writes (recovery ignores them).
    this.planSweep(this.writer ? Number.POSITIVE_INFINITY : SWEEP_ROWS_MAX);
    this.writeState();
  }

  private setSnapshot(meta: SnapshotMeta): void {
    this.snapshot = meta;
    this.snapConfJson = JSON.stringify(meta.conf);
  }

  private writeState(): void {
    const row: Omit<StateRow, 'crc'> = {
      version: SCHEMA_VERSION,
      term: this.hardState.term,
      vote: this.hardState.vote,
      commit_index: this.hardState.commit,
      batch: this.batch,
      snap_index: this.snapIndex(),
      snap_term: this.snapshot?.term ?? 0,
      snap_conf: this.snapConfJson,
    };
    this.plan.push({ k: 'state', row: { ...row, crc: stateChecksum(row) } });
  }

  private loadState(): StateRow {
    const row = this.db.prepare('SELECT * FROM raft_state WHERE k = 1').get() as
      | StateRow
      | undefined;
    if (!row) {
      const fresh = { version: SCHEMA_VERSION, term: 0, vote: null, commit_index: 0, batch: 0 };
      const init = { ...fresh, snap_index: 0, snap_term: 0, snap_conf: null };
      const full = { ...init, crc: stateChecksum(init) };
      this.stmts.writeState.run(stateParams(full));
      return full;
    }
    verifyStateRow(this.path, row);
    if (row.version !== SCHEMA_VERSION) {
      throw new DrlError('storage_corrupt', `${this.path}: raft log schema version ${row.version}`);
    }
    return row;
  }
}

/** Garbage rows deleted per write after a compaction (see RaftLogStore.sweptUpTo). */
const SWEEP_ROWS_MAX = 256;

/** Writes row `row` of a multi-row INSERT's positional parameters. */
function setRow(params: unknown[], row: number, e: Entry, batch: number): void {
  const at = row * FIELDS_PER_ROW;
  params[at] = e.index;
  params[at + 1] = e.term;
  params[at + 2] = e.type;
  params[at + 3] = e.data;
  params[at + 4] = entryChecksum(e.index, e.term, e.type, e.data);
  params[at + 5] = batch;
}

interface RawEntryRow {
  idx: number;
  term: number;
  type: number;
  data: Buffer;
  crc: number;
  batch: number;
}

function prepare(db: Database.Database) {
  const sql = RAFT_LOG_WRITE_SQL;
  return {
    insert: sql.insert.map((text) => db.prepare(text)),
    deleteFrom: db.prepare(sql.deleteFrom),
    deleteRange: db.prepare(sql.deleteRange),
    deleteAll: db.prepare(sql.deleteAll),
    range: db.prepare(RAFT_LOG_RANGE_SQL),
    writeState: db.prepare(sql.writeState),
  };
}
