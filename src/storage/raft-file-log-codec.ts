/**
 * The record format of the file Raft log (raft-file-log-store.ts). One record per write:
 *
 *   u32 payload bytes | u32 CRC-32 of the payload | payload
 *   payload: u8 kind | snapshot (kinds reset, compact) | hard state | u32 entries | entries
 *     snapshot:   f64 index | f64 term | u32 bytes | ConfState JSON (0 bytes: no snapshot)
 *     hard state: f64 term | f64 commit | u16 vote bytes (VOTE_NONE: null) | vote UTF-8
 *     entries:    f64 first index, then per entry f64 term | u8 type | u32 bytes | data
 *
 * Little-endian; indexes and terms as f64 because they are JS numbers (exact below 2^53).
 * Every record carries the whole hard state, so the last good record is the state.
 */
import { crc32 } from '../crc32.js';
import { DrlError } from '../errors.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../raft/types.js';

/** What a record does to the log before its entries are appended. */
export const RecordKind = {
  /** Entries only (a first index at or below the last truncates the suffix from there). */
  append: 0,
  /** The log restarts after `snapshot` (null: empty log at index 0): a segment's first record. */
  reset: 1,
  /** Entries up to `snapshot.index` are dropped (a state machine snapshot covers them). */
  compact: 2,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export const RECORD_HEADER_BYTES = 8;
/** Per entry before its data: term, type, data bytes. */
export const ENTRY_HEADER_BYTES = 13;
/** Bound on one record's payload: a longer length field is garbage, not a record. */
export const RECORD_PAYLOAD_BYTES_MAX = 1 << 30;
const VOTE_NONE = 0xffff;

export interface LogRecord {
  kind: RecordKind;
  snapshot: SnapshotMeta | null;
  hardState: HardState;
  entries: Entry[];
}

/**
 * A decoded record without its entries' data: recovery needs their terms and where they are
 * (entries are read back from the file only when the core loads, see readEntry).
 */
export interface DecodedRecord {
  kind: RecordKind;
  snapshot: SnapshotMeta | null;
  hardState: HardState;
  /** Index of the first entry (meaningless when there are none). */
  firstIndex: number;
  terms: number[];
  /** File offset of each entry's header (ENTRY_HEADER_BYTES, then its data). */
  entryOffsets: number[];
}

/** Bytes encodeRecord writes for this record (header included). */
export function recordBytes(r: LogRecord, confJson: string | null): number {
  let n = RECORD_HEADER_BYTES + 1;
  if (r.kind !== RecordKind.append) n += 20 + Buffer.byteLength(confJson ?? '');
  n += 18 + Buffer.byteLength(r.hardState.vote ?? '');
  n += 4;
  if (r.entries.length > 0) n += 8;
  for (const e of r.entries) n += ENTRY_HEADER_BYTES + e.data.length;
  return n;
}

/**
 * Writes the record at buf[0, recordBytes) and returns its length. `confJson` is the snapshot's
 * ConfState as JSON (computed once per snapshot by the caller, not per record). Where each
 * entry will be in the file (the record written at `fileOffset`) is pushed to `offsetsOut`.
 */
export function encodeRecord(
  buf: Buffer,
  r: LogRecord,
  confJson: string | null,
  fileOffset: number,
  offsetsOut: number[],
): number {
  let at = RECORD_HEADER_BYTES;
  buf[at++] = r.kind;
  if (r.kind !== RecordKind.append) {
    buf.writeDoubleLE(r.snapshot?.index ?? 0, at);
    buf.writeDoubleLE(r.snapshot?.term ?? 0, at + 8);
    const confBytes = r.snapshot ? buf.write(confJson ?? '', at + 20) : 0;
    buf.writeUInt32LE(confBytes, at + 16);
    at += 20 + confBytes;
  }
  const hs = r.hardState;
  buf.writeDoubleLE(hs.term, at);
  buf.writeDoubleLE(hs.commit, at + 8);
  const voteBytes = hs.vote === null ? 0 : buf.write(hs.vote, at + 18);
  buf.writeUInt16LE(hs.vote === null ? VOTE_NONE : voteBytes, at + 16);
  at += 18 + voteBytes;
  buf.writeUInt32LE(r.entries.length, at);
  at += 4;
  if (r.entries.length > 0) {
    buf.writeDoubleLE(r.entries[0]!.index, at);
    at += 8;
  }
  for (let i = 0; i < r.entries.length; i++) {
    const e = r.entries[i]!;
    offsetsOut.push(fileOffset + at);
    buf.writeDoubleLE(e.term, at);
    buf[at + 8] = e.type;
    buf.writeUInt32LE(e.data.length, at + 9);
    buf.set(e.data, at + ENTRY_HEADER_BYTES);
    at += ENTRY_HEADER_BYTES + e.data.length;
  }
  buf.writeUInt32LE(at - RECORD_HEADER_BYTES, 0);
  buf.writeUInt32LE(crc32(buf, RECORD_HEADER_BYTES, at), 4);
  return at;
}

/** Why the bytes at an offset are not a whole record (recovery decides what that means). */
export type RecordFault = 'truncated' | 'checksum' | 'zeros';

/**
 * The record at buf[at...]: decoded, or a fault when the bytes there are not a whole,
 * checksummed record. `fileOffset` is buf[0]'s position in the file. A record that passes its
 * checksum but does not parse is corruption, never a torn write: that throws.
 */
export function decodeRecord(
  buf: Buffer,
  at: number,
  end: number,
  fileOffset: number,
  path: string,
): { record: DecodedRecord; next: number } | { fault: RecordFault } {
  if (end - at < RECORD_HEADER_BYTES) return { fault: 'truncated' };
  const bytes = buf.readUInt32LE(at);
  const crc = buf.readUInt32LE(at + 4);
  if (bytes === 0 && crc === 0) return { fault: 'zeros' };
  if (bytes > RECORD_PAYLOAD_BYTES_MAX) return { fault: 'checksum' };
  const from = at + RECORD_HEADER_BYTES;
  if (end - from < bytes) return { fault: 'truncated' };
  if (crc32(buf, from, from + bytes) !== crc) return { fault: 'checksum' };
  const record = parsePayload(buf, from, from + bytes, fileOffset, path);
  return { record, next: from + bytes };
}

function parsePayload(
  buf: Buffer,
  from: number,
  end: number,
  fileOffset: number,
  path: string,
): DecodedRecord {
  const bad = (why: string) =>
    new DrlError('storage_corrupt', `${path}: record at ${fileOffset + from - 8}: ${why}`);
  let at = from;
  const need = (n: number) => {
    if (at + n > end) throw bad('shorter than its fields');
  };
  need(1);
  const kind = buf[at++]!;
  if (kind !== RecordKind.append && kind !== RecordKind.reset && kind !== RecordKind.compact) {
    throw bad(`unknown kind ${kind}`);
  }
  let snapshot: SnapshotMeta | null = null;
  if (kind !== RecordKind.append) {
    need(20);
    const index = buf.readDoubleLE(at);
    const term = buf.readDoubleLE(at + 8);
    const confBytes = buf.readUInt32LE(at + 16);
    at += 20;
    need(confBytes);
    if (confBytes > 0) {
      const conf = JSON.parse(buf.toString('utf8', at, at + confBytes)) as ConfState;
      snapshot = { index, term, conf };
    } else if (index !== 0 || kind === RecordKind.compact) {
      throw bad('snapshot without a configuration');
    }
    at += confBytes;
  }
  need(18);
  const term = buf.readDoubleLE(at);
  const commit = buf.readDoubleLE(at + 8);
  const voteBytes = buf.readUInt16LE(at + 16);
  at += 18;
  let vote: string | null = null;
  if (voteBytes !== VOTE_NONE) {
    need(voteBytes);
    vote = buf.toString('utf8', at, at + voteBytes);
    at += voteBytes;
  }
  need(4);
  const count = buf.readUInt32LE(at);
  at += 4;
  const terms: number[] = [];
  const entryOffsets: number[] = [];
  let firstIndex = 0;
  if (count > 0) {
    need(8);
    firstIndex = buf.readDoubleLE(at);
    at += 8;
    for (let i = 0; i < count; i++) {
      need(ENTRY_HEADER_BYTES);
      const dataBytes = buf.readUInt32LE(at + 9);
      need(ENTRY_HEADER_BYTES + dataBytes);
      entryOffsets.push(fileOffset + at);
      terms.push(buf.readDoubleLE(at));
      at += ENTRY_HEADER_BYTES + dataBytes;
    }
  }
  if (at !== end) throw bad(`${end - at} bytes after its fields`);
  const hardState = { term, vote, commit };
  return { kind: kind as RecordKind, snapshot, hardState, firstIndex, terms, entryOffsets };
}

/**
 * The entry whose header is at buf[at...] (read back from the file at `offset`). Its checksum
 * was verified with its record at open; the data is copied out of `buf`.
 */
export function entryAt(buf: Buffer, at: number, index: number): Entry {
  const dataBytes = buf.readUInt32LE(at + 9);
  const from = at + ENTRY_HEADER_BYTES;
  const data = Buffer.from(buf.subarray(from, from + dataBytes));
  return { index, term: buf.readDoubleLE(at), type: buf[at + 8] as EntryType, data };
}
