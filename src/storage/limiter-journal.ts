import type Database from 'better-sqlite3';
import { DrlError } from '../errors.js';
import type { AllowCommand, Command } from '../limiter/types.js';
import { ensureLimiterSchema } from './limiter-schema.js';

export interface JournalEntry {
  seq: number;
  command: Command;
}

interface JournalRow {
  seq: number;
  ts: number;
  type: string;
  rule: string | null;
  key: string | null;
  cost: number | null;
  lim: number | null;
  window_ms: number | null;
  request_id: string | null;
  body: string | null;
}

/**
 * The journal table of an embedded limiter's state file: the state-changing commands applied
 * since the last snapshot, one row per command. Files written before the journal moved to its
 * own files (limiter-journal-file.ts: a table committed between snapshot slices could not be)
 * may still hold rows: opening replays them and empties the table. Appends remain for tests
 * that build such files.
 */
export class LimiterJournal {
  private readonly insert: Database.Statement;
  private readonly selectAfter: Database.Statement;
  private readonly deleteThrough: Database.Statement;
  private readonly selectLast: Database.Statement;

  constructor(db: Database.Database) {
    ensureLimiterSchema(db);
    this.insert = db.prepare(
      `INSERT INTO limiter_journal (seq, ts, type, rule, key, cost, lim, window_ms, request_id, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectAfter = db.prepare('SELECT * FROM limiter_journal WHERE seq > ? ORDER BY seq');
    this.deleteThrough = db.prepare('DELETE FROM limiter_journal WHERE seq <= ?');
    this.selectLast = db.prepare('SELECT max(seq) AS seq FROM limiter_journal');
  }

  /** The highest sequence number written, or 0. */
  lastSeq(): number {
    return (this.selectLast.get() as { seq: number | null }).seq ?? 0;
  }

  append(seq: number, command: Command): void {
    if (command.type !== 'allow') {
      const body = JSON.stringify(command);
      this.insert.run(seq, command.ts, command.type, null, null, null, null, null, null, body);
      return;
    }
    const { ts, key, rule, cost, limit, windowMs, requestId } = command;
    const columns = [rule, key, cost, limit, windowMs, requestId].map((v) => v ?? null);
    this.insert.run(seq, ts, 'allow', ...columns, null);
  }

  /** Entries with seq greater than `seq`, in order (streamed). */
  *entriesAfter(seq: number): Generator<JournalEntry> {
    for (const row of this.selectAfter.iterate(seq) as IterableIterator<JournalRow>) {
      yield { seq: row.seq, command: decodeRow(row) };
    }
  }

  /** Drops entries a snapshot now covers. */
  truncateThrough(seq: number): void {
    this.deleteThrough.run(seq);
  }
}

function decodeRow(row: JournalRow): Command {
  if (row.type !== 'allow') {
    const command = JSON.parse(row.body ?? 'null') as Command | null;
    if (command === null || command.type !== row.type || command.ts !== row.ts) {
      throw new DrlError('storage_corrupt', `journal entry ${row.seq} does not decode`);
    }
    return command;
  }
  if (row.key === null)
    throw new DrlError('storage_corrupt', `journal entry ${row.seq} has no key`);
  const command: AllowCommand = { type: 'allow', ts: row.ts, key: row.key };
  if (row.rule !== null) command.rule = row.rule;
  if (row.cost !== null) command.cost = row.cost;
  if (row.lim !== null) command.limit = row.lim;
  if (row.window_ms !== null) command.windowMs = row.window_ms;
  if (row.request_id !== null) command.requestId = row.request_id;
  return command;
}
