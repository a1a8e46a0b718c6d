import type Database from 'better-sqlite3';
import { DrlError, isDrlError } from '../errors.js';
import type { Command, LimiterStateMachine } from '../limiter/types.js';
import { LimiterJournal } from '../storage/limiter-journal.js';
import { LimiterSnapshotStore } from '../storage/limiter-snapshot-store.js';
import { type Durability, openExclusiveDatabase } from '../storage/sqlite-open.js';

export interface DurableStateOptions {
  path: string;
  durability: Durability;
  /** Journal entries between two incremental snapshots (each snapshot truncates the journal). */
  snapshotEveryCommands: number;
}

/**
 * An embedded limiter's state on disk: the last snapshot plus a journal of every
 * state-changing command applied since. `record` commits one journal row before returning, so
 * a decision the caller has seen survives a kill -9 (WAL, synchronous=NORMAL) or a power cut
 * (synchronous=FULL). Opening restores the snapshot into the engine and replays the journal.
 */
export class DurableState {
  private readonly db: Database.Database;
  private readonly store: LimiterSnapshotStore;
  private readonly journal: LimiterJournal;
  private readonly engine: LimiterStateMachine;
  private readonly snapshotEveryCommands: number;
  /** Sequence number of the last journaled command. */
  private seq: number;
  private commandsSinceSnapshot = 0;
  /**
   * After a failed snapshot the engine's change tracking may have been consumed by the attempt,
   * so the next snapshot must be full, or changes would be missing from it while the journal
   * entries that hold them get truncated.
   */
  private nextSnapshotFull = false;

  constructor(engine: LimiterStateMachine, options: DurableStateOptions) {
    this.db = openExclusiveDatabase(options.path, { durability: options.durability });
    try {
      this.journal = new LimiterJournal(this.db);
      this.store = new LimiterSnapshotStore(this.db, {
        onCommit: (index) => this.journal.truncateThrough(index),
      });
      this.engine = engine;
      this.snapshotEveryCommands = options.snapshotEveryCommands;
      const snapshotIndex = this.store.appliedIndex;
      this.seq = this.recover(snapshotIndex);
      // Replayed entries are still only in the journal: they count towards the next snapshot.
      this.commandsSinceSnapshot = this.seq - snapshotIndex;
    } catch (err) {
      this.db.close();
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
    this.journal.appendAllow(this.seq + 1, ts, key, rule, cost, limit, windowMs, undefined);
    this.recorded();
  }

  /** Writes what changed since the last snapshot and drops the journal it covers. */
  snapshot(): void {
    const mode = this.nextSnapshotFull ? 'full' : 'incremental';
    try {
      this.engine.writeSnapshot(this.store, this.seq, mode);
    } catch (err) {
      this.store.abort();
      this.nextSnapshotFull = true;
      throw err;
    }
    this.nextSnapshotFull = false;
    this.commandsSinceSnapshot = 0;
  }

  close(): void {
    try {
      if (this.commandsSinceSnapshot > 0) this.snapshot();
    } finally {
      this.db.close();
    }
  }

  private recorded(): void {
    this.seq += 1;
    this.commandsSinceSnapshot += 1;
    if (this.commandsSinceSnapshot >= this.snapshotEveryCommands) this.snapshot();
  }

  /** Restores the snapshot, replays the journal after it; returns the last sequence number. */
  private recover(snapshotIndex: number): number {
    let seq = snapshotIndex;
    this.engine.restore(this.store.records());
    for (const entry of this.journal.entriesAfter(seq)) {
      if (entry.seq !== seq + 1) {
        throw new DrlError('storage_corrupt', `journal jumps from ${seq} to ${entry.seq}`);
      }
      replay(this.engine, entry.seq, entry.command);
      seq = entry.seq;
    }
    return seq;
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
