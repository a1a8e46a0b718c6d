import { DrlError, isDrlError } from '../errors.js';
import type { Limiter } from '../limiter/index.js';
import type { Command, LimiterStateMachine } from '../limiter/types.js';
import { type JournalEntry, LimiterJournal } from '../storage/limiter-journal.js';
import { LimiterJournalFile } from '../storage/limiter-journal-file.js';
import { SlicedSnapshotWrite } from '../storage/limiter-sliced-write.js';
import { LimiterSnapshotStore } from '../storage/limiter-snapshot-store.js';
import { type Durability, loadSqlite } from '../storage/sqlite-open.js';

export interface DurableStateOptions {
  path: string;
  durability: Durability;
  /** Journal entries between two incremental snapshots. */
  snapshotEveryCommands: number;
}

/**
 * A slice of the snapshot being written, per recorded command: SLICE_RECORDS records, then
 * more while under SLICE_BUDGET_MS. A snapshot of 10,000 changed keys written in one call held
 * it 30-40 ms; 16 records take ~0.05 ms here (one batched window statement).
 */
const SLICE_BUDGET_MS = 0.03;
const SLICE_RECORDS = 16;

/**
 * An embedded limiter's state on disk: the last snapshot (the SQLite file at `path`) plus a
 * journal of every state-changing command applied since (LimiterJournalFile, beside it).
 * `record` writes one journal line before returning, so a decision the caller has seen survives
 * a kill -9 (or, with durability 'fsync', a power cut). A snapshot is captured copy-on-write
 * every `snapshotEveryCommands` commands and written a slice per later recorded command, in
 * one SQLite transaction; once it commits, the journal files it covers are deleted. Opening
 * restores the snapshot, replays the journal, and snapshots what it replayed.
 */
export class DurableState {
  private readonly store: LimiterSnapshotStore;
  private readonly journal: LimiterJournalFile;
  private readonly engine: Limiter;
  private readonly snapshotEveryCommands: number;
  /** Sequence number of the last journaled command. */
  private seq = 0;
  private commandsSinceSnapshot = 0;
  /** The snapshot being written a slice per recorded command, or null. */
  private writing: SlicedSnapshotWrite | null = null;
  /**
   * After a failed snapshot the engine's change tracking was consumed by the capture, so the
   * next snapshot must be full, or changes would be missing from it while the journal files
   * that hold them get deleted.
   */
  private nextSnapshotFull = false;

  constructor(engine: Limiter, options: DurableStateOptions) {
    const { path, durability } = options;
    this.store = LimiterSnapshotStore.openFile(path, { durability });
    this.engine = engine;
    this.snapshotEveryCommands = options.snapshotEveryCommands;
    let journal: LimiterJournalFile | undefined;
    try {
      journal = new LimiterJournalFile(path, durability);
      this.journal = journal;
      this.recover(path);
    } catch (err) {
      journal?.close();
      this.store.close();
      throw err;
    }
  }

  /** Journals a command the engine has just applied; durable when this returns. */
  record(command: Command): void {
    this.journal.append(this.seq + 1, command);
    this.recorded();
  }

  /** `record` of a granted allow, without a command object (the hot path). */
  recordAllow(
    ts: number,
    key: string,
    rule: string | undefined,
    cost: number | undefined,
    limit: number | undefined,
    windowMs: number | undefined,
  ): void {
    this.journal.appendAllow(this.seq + 1, ts, key, rule, cost, limit, windowMs);
    this.recorded();
  }

  /** Captures and writes a snapshot through the last recorded command, all in this call. */
  snapshot(): void {
    this.startSnapshot();
    if (this.writing !== null) this.writeSlice(Number.POSITIVE_INFINITY);
  }

  close(): void {
    try {
      if (this.writing !== null) this.writeSlice(Number.POSITIVE_INFINITY);
      if (this.commandsSinceSnapshot > 0) this.snapshot();
    } finally {
      try {
        this.journal.close();
      } finally {
        this.store.close();
      }
    }
  }

  private recorded(): void {
    this.seq += 1;
    if (this.writing !== null && this.writing.index >= this.seq) {
      throw new DrlError('internal', `snapshot ${this.writing.index} ahead of seq ${this.seq}`);
    }
    this.commandsSinceSnapshot += 1;
    if (this.commandsSinceSnapshot >= this.snapshotEveryCommands) this.startSnapshot();
    if (this.writing !== null) this.writeSlice(SLICE_BUDGET_MS, SLICE_RECORDS);
  }

  /**
   * Captures a snapshot through `seq` (the previous one finished first) and starts the journal
   * file for the commands after it: once this snapshot commits, the older files are covered.
   */
  private startSnapshot(): void {
    if (this.writing !== null) this.writeSlice(Number.POSITIVE_INFINITY);
    this.commandsSinceSnapshot = 0;
    this.journal.start(this.seq + 1);
    let write: SlicedSnapshotWrite;
    try {
      if (this.nextSnapshotFull) {
        write = new SlicedSnapshotWrite();
        this.engine.writeSnapshot(write, this.seq, 'full');
      } else write = SlicedSnapshotWrite.deferred(this.engine.captureSnapshot(this.seq));
    } catch (err) {
      this.nextSnapshotFull = true;
      throw err;
    }
    this.nextSnapshotFull = false;
    this.writing = write;
  }

  /** One slice of the snapshot being written (budgetMs); the last one commits it. */
  private writeSlice(budgetMs: number, records?: number): void {
    const write = this.writing!;
    let done: boolean;
    try {
      done = write.step(this.store, budgetMs, records);
    } catch (err) {
      this.store.abort();
      write.release();
      this.writing = null;
      this.nextSnapshotFull = true;
      throw err;
    }
    if (!done) return;
    this.writing = null;
    this.journal.dropThrough(write.index);
  }

  /**
   * Restores the snapshot and replays the journal after it: first the rows of the journal
   * table (where files written before LimiterJournalFile kept it), then the journal files.
   * What was replayed is only in the journal, so it is snapshotted at once; then every file
   * found here is covered and deleted, and so are the table's rows. Sets `seq` to the last one.
   */
  private recover(path: string): void {
    const snapshotIndex = this.store.appliedIndex;
    this.engine.restore(this.store.records());
    let seq = snapshotIndex;
    const replayAll = (entries: Iterable<JournalEntry>): void => {
      for (const entry of entries) {
        if (entry.seq !== seq + 1) {
          throw new DrlError('storage_corrupt', `journal jumps from ${seq} to ${entry.seq}`);
        }
        replay(this.engine, entry.seq, entry.command);
        seq = entry.seq;
      }
    };
    // Through a connection of its own: the store keeps its connection to itself.
    const tableDb = new (loadSqlite())(path, { timeout: 0 });
    try {
      const table = new LimiterJournal(tableDb);
      replayAll(table.entriesAfter(snapshotIndex));
      replayAll(this.journal.entriesAfter(seq));
      this.seq = seq;
      if (seq > snapshotIndex) this.snapshot();
      else this.journal.start(seq + 1);
      this.journal.dropThrough(seq);
      if (table.lastSeq() > 0) table.truncateThrough(seq);
    } finally {
      tableDb.close();
    }
  }
}

function replay(engine: LimiterStateMachine, seq: number, command: Command): void {
  let granted = true;
  try {
    const result = engine.apply(command);
    if (command.type === 'allow') granted = result.type === 'decision' && result.decision.allowed;
  } catch (err) {
    const reason = isDrlError(err) ? err.message : String(err);
    throw new DrlError('storage_corrupt', `journal entry ${seq} no longer applies: ${reason}`, {
      cause: err,
    });
  }
  // Only grants are journaled; replaying one must grant again, or an acknowledged grant is lost.
  if (!granted) throw new DrlError('storage_corrupt', `journal entry ${seq} no longer grants`);
}
