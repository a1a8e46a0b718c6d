/**
 * The embedded limiter's journal: every state-changing command applied since the last
 * snapshot, one line each, appended to plain files beside the state file
 * (`<path>.journal-<first seq>`). A file is started at each snapshot's capture, so once that
 * snapshot commits, every older file is covered by it and is deleted whole: no row deletes, no
 * WAL, no checkpoint. (The journal was a SQLite table in the state file; its checkpoints stalled
 * one call ~45 ms per 10,000 grants, and a snapshot could not be written in slices while the
 * journal committed into the same file between them.)
 *
 * A line is `<JSON>\t<CRC-32 of the JSON, hex>\n`. A write(2) that returned is in the page
 * cache, so it survives a process kill; with `fsync` durability each line is also fdatasynced
 * before append returns (a power cut). Only the last line of the last file can be torn (the
 * append that was in progress, never acknowledged): reading skips it; a bad line anywhere else
 * is corruption.
 */
import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32Text } from '../crc32.js';
import { DrlError } from '../errors.js';
import type { AllowCommand, Command } from '../limiter/types.js';
import type { JournalEntry } from './limiter-journal.js';
import type { Durability } from './sqlite-open.js';
import { syncDirectory } from './sync-directory.js';

interface Segment {
  first: number;
  path: string;
}

/** Bytes read per read(2) while recovering (lines are short: a key is at most 512 bytes). */
const READ_CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

export class LimiterJournalFile {
  private readonly path: string;
  private readonly durability: Durability;
  /** The file appends go to; -1 before start() and after close(). */
  private fd = -1;
  private current: Segment | null = null;
  /** Bytes of whole lines in the current file (a failed append is cut back to this). */
  private bytes = 0;
  /** Older files, each covered once a snapshot through `first - 1` of the next one commits. */
  private readonly older: Segment[];

  /** Lists the journal files of the state file at `path` (none are opened for writing yet). */
  constructor(path: string, durability: Durability) {
    this.path = path;
    this.durability = durability;
    this.older = listSegments(path);
  }

  /** Every entry after `seq` in the files found at open, in order (streamed). */
  *entriesAfter(seq: number): Generator<JournalEntry> {
    const segments = this.older.slice();
    for (let i = 0; i < segments.length; i++) {
      const last = i === segments.length - 1;
      for (const entry of readSegment(segments[i]!.path, last)) {
        if (entry.seq > seq) yield entry;
      }
    }
  }

  /**
   * Starts the file for entries from `firstSeq` on (at open, and at each snapshot's capture).
   * The file it replaces joins the older ones. With `fsync` durability the directory is synced,
   * so the new file's name survives a power cut along with the lines in it.
   */
  start(firstSeq: number): void {
    if (this.current !== null && firstSeq <= this.current.first) {
      throw new DrlError('internal', `journal: file ${firstSeq} after ${this.current.first}`);
    }
    const segment = { first: firstSeq, path: `${this.path}.journal-${firstSeq}` };
    const fd = openFile(segment.path, 'w');
    if (this.durability === 'fsync') {
      try {
        syncDirectory(dirname(this.path));
      } catch (err) {
        closeSync(fd);
        throw new DrlError(
          'storage_failed',
          `cannot sync ${dirname(this.path)}: ${errorText(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    if (this.current !== null) {
      closeSync(this.fd);
      this.older.push(this.current);
    }
    this.fd = fd;
    this.current = segment;
    this.bytes = 0;
  }

  /** Deletes the older files a committed snapshot through `seq` covers. */
  dropThrough(seq: number): void {
    const next = this.current?.first ?? Number.POSITIVE_INFINITY;
    while (this.older.length > 0) {
      const following = this.older.length > 1 ? this.older[1]!.first : next;
      // Every entry of older[0] is below `following`: covered when following - 1 <= seq.
      if (following - 1 > seq) return;
      const segment = this.older.shift()!;
      // A file left behind (unlink failed) is only re-read and skipped at the next open.
      try {
        unlinkSync(segment.path);
      } catch {}
    }
  }

  append(seq: number, command: Command): void {
    this.write(JSON.stringify([seq, command]));
  }

  /** `append` of an allow without building a command object (the hot path). */
  appendAllow(
    seq: number,
    ts: number,
    key: string,
    rule: string | undefined,
    cost: number | undefined,
    limit: number | undefined,
    windowMs: number | undefined,
  ): void {
    this.write(
      JSON.stringify([seq, ts, key, rule ?? null, cost ?? null, limit ?? null, windowMs ?? null]),
    );
  }

  /** Closes the current file; deletes it when it holds nothing (a snapshot covers the rest). */
  close(): void {
    if (this.current === null) return;
    closeSync(this.fd);
    this.fd = -1;
    if (this.bytes === 0) {
      try {
        unlinkSync(this.current.path);
      } catch {}
    }
    this.current = null;
  }

  private write(json: string): void {
    if (this.current === null) throw new DrlError('internal', 'journal: append before start');
    const line = `${json}\t${crc32Text(json).toString(16)}\n`;
    const length = Buffer.byteLength(line);
    try {
      const written = writeSync(this.fd, line);
      if (written !== length) throw new Error(`short write (${written} of ${length} bytes)`);
      if (this.durability === 'fsync') fdatasyncSync(this.fd);
    } catch (err) {
      this.cutBack();
      throw new DrlError('storage_failed', `journal ${this.current.path}: ${errorText(err)}`, {
        cause: err,
      });
    }
    this.bytes += length;
  }

  /** After a failed append: the next line must not follow a partial one. */
  private cutBack(): void {
    try {
      ftruncateSync(this.fd, this.bytes);
    } catch {
      // Appends go on at the file offset: without the cut, later lines follow the fragment and
      // reading would refuse the file. Refuse appends instead, until a reopen.
      closeSync(this.fd);
      this.fd = -1;
      this.current = null;
    }
  }
}

function openFile(path: string, flags: string): number {
  try {
    return openSync(path, flags);
  } catch (err) {
    throw new DrlError('storage_failed', `cannot open ${path}: ${errorText(err)}`, { cause: err });
  }
}

function listSegments(path: string): Segment[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.journal-`;
  const segments: Segment[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const digits = name.slice(prefix.length);
    if (!/^[1-9][0-9]{0,15}$/.test(digits)) continue;
    segments.push({ first: Number(digits), path: join(dir, name) });
  }
  return segments.sort((a, b) => a.first - b.first);
}

/** The entries of one file; `last`: the final file, whose final line may be torn. */
function* readSegment(path: string, last: boolean): Generator<JournalEntry> {
  const fd = openFile(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let carry = Buffer.alloc(0);
    let lineNo = 0;
    let bad: string | null = null;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk;
      const end = carry.length > 0 ? data.length : n;
      let from = 0;
      for (let nl = data.indexOf(NEWLINE, from); nl !== -1 && nl < end; ) {
        lineNo++;
        // A bad line followed by another whole line is not a torn tail.
        if (bad !== null) throw corrupt(path, bad);
        const entry = decodeLine(data.toString('utf8', from, nl));
        if (typeof entry === 'string') bad = `line ${lineNo}: ${entry}`;
        else yield entry;
        from = nl + 1;
        nl = data.indexOf(NEWLINE, from);
      }
      carry = Buffer.from(data.subarray(from, end));
    }
    // The last line bad, or cut before its newline: torn only at the very end of the journal.
    if (bad !== null && !last) throw corrupt(path, bad);
    if (carry.length > 0 && !last) throw corrupt(path, 'the last line has no newline');
  } finally {
    closeSync(fd);
  }
}

/** An entry, or why the line is bad. */
function decodeLine(line: string): JournalEntry | string {
  const tab = line.lastIndexOf('\t');
  if (tab < 0) return 'no checksum';
  const json = line.slice(0, tab);
  if (line.slice(tab + 1) !== crc32Text(json).toString(16)) return 'checksum mismatch';
  let fields: unknown;
  try {
    fields = JSON.parse(json);
  } catch {
    return 'not JSON';
  }
  if (!Array.isArray(fields)) return 'not an array';
  const seq = fields[0];
  if (!Number.isSafeInteger(seq) || seq < 1) return 'bad sequence number';
  if (fields.length === 2) {
    const command = fields[1] as Command | null;
    if (typeof command !== 'object' || command === null || typeof command.type !== 'string') {
      return 'bad command';
    }
    return { seq, command };
  }
  if (fields.length !== 7) return 'bad field count';
  return decodeAllow(seq, fields);
}

function decodeAllow(seq: number, fields: unknown[]): JournalEntry | string {
  const [, ts, key, rule, cost, limit, windowMs] = fields;
  if (typeof ts !== 'number' || typeof key !== 'string') return 'bad allow';
  const command: AllowCommand = { type: 'allow', ts, key };
  if (typeof rule === 'string') command.rule = rule;
  if (typeof cost === 'number') command.cost = cost;
  if (typeof limit === 'number') command.limit = limit;
  if (typeof windowMs === 'number') command.windowMs = windowMs;
  return { seq, command };
}

function corrupt(path: string, what: string): DrlError {
  return new DrlError('storage_corrupt', `journal ${path}: ${what}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
