/**
 * Recovery of the file Raft log: which segment holds the log, and its replay.
 *
 * A segment's first record is a reset (the whole state: snapshot meta, the entries after it,
 * hard state), so the newest segment whose first record is whole holds everything; older
 * segments are leftovers of a roll that crashed before deleting them. A newest segment whose
 * first record is torn was being created (nothing in it was acknowledged): the one before it
 * holds the log. With no segment before it, only a file of zeros (or none) passes as a crashed
 * creation; other bytes are storage_corrupt (starting empty would forget the term and vote).
 *
 * Segments are extended with zeros ahead of their records (raft-file-log-store.ts), so a
 * record header of zeros followed by nothing but zeros is the clean end of the log.
 *
 * The torn-tail rule: a record is written whole by one write and acknowledged only after the
 * fdatasync that follows, so a crash can tear the last record and only that one. A bad record
 * is dropped (with everything after it) only when it runs past the end of the file or is
 * followed by nothing but zeros (the preallocated rest, or a file extended before its data
 * reached the disk). Anything else, or a record that breaks a log invariant, is
 * storage_corrupt naming the file and offset.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../crc32.js';
import { DrlError } from '../errors.js';
import type { HardState, SnapshotMeta } from '../raft/types.js';
import {
  type DecodedRecord,
  decodeRecord,
  type RecordFault,
  RecordKind,
} from './raft-file-log-codec.js';

const SEGMENT_PATTERN = /^(\d{16})\.seg$/;

export function segmentName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.seg`;
}

/** Sequence numbers of the segments in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  const seqs: number[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEGMENT_PATTERN.exec(name);
    if (m) seqs.push(Number(m[1]));
  }
  return seqs.sort((a, b) => a - b);
}

/** The log as a replay leaves it. */
export interface ReplayedLog {
  snapshot: SnapshotMeta | null;
  hardState: HardState;
  /** terms[i] and offsets[i]: entry snapIndex + 1 + i. */
  terms: number[];
  offsets: number[];
  /** Bytes of whole records; the zeros or a torn tail start here. */
  goodBytes: number;
  fileBytes: number;
  /** A torn record was found at goodBytes (the store cuts it off). */
  torn: boolean;
  records: number;
}

/** Replays one segment; null when its first record is not whole (a roll that crashed). */
export function replaySegment(path: string): ReplayedLog | null {
  const buf = readFileSync(path);
  const first = decodeRecord(buf, 0, buf.length, 0, path);
  if ('fault' in first) {
    // Torn only if shaped like one (records follow a first record only once it is durable).
    checkTorn(buf, 0, first.fault, path);
    return null;
  }
  if (first.record.kind !== RecordKind.reset) {
    throw new DrlError('storage_corrupt', `${path}: the first record is not a reset`);
  }
  const log: ReplayedLog = {
    snapshot: null,
    hardState: { term: 0, vote: null, commit: 0 },
    terms: [],
    offsets: [],
    goodBytes: 0,
    fileBytes: buf.length,
    torn: false,
    records: 0,
  };
  let at = 0;
  while (at < buf.length) {
    const got = decodeRecord(buf, at, buf.length, 0, path);
    if ('fault' in got) {
      if (got.fault !== 'zeros' || !zerosFrom(buf, at)) {
        checkTorn(buf, at, got.fault, path);
        log.torn = true;
      }
      break;
    }
    applyRecord(log, got.record, `${path}: record at ${at}`);
    at = got.next;
    log.goodBytes = at;
    log.records++;
  }
  return log;
}

function checkTorn(buf: Buffer, at: number, fault: RecordFault, path: string): void {
  const corrupt = (why: string) =>
    new DrlError('storage_corrupt', `${path}: record at ${at} ${why}`);
  // A bad payload: torn if nothing but zeros follows where it claims to end.
  const shaped =
    fault === 'truncated' ||
    (fault === 'zeros' && zerosFrom(buf, at)) ||
    (fault === 'checksum' && zerosFrom(buf, at + 8 + buf.readUInt32LE(at)));
  if (!shaped) throw corrupt('fails its checksum and is not the last one');
  // Only the last record can be torn: a whole record after it means this one was damaged
  // (e.g. a flipped length field that sends it past the end of the file), not torn.
  const later = wholeRecordAfter(buf, at + 1);
  if (later >= 0) throw corrupt(`is damaged, and a whole record follows at ${later}`);
}

/**
 * The offset of the first place after `from` where a whole record (length and CRC-32 agree)
 * starts, or -1. Runs only when recovery met a bad record; zeros are skipped at once.
 */
function wholeRecordAfter(buf: Buffer, from: number): number {
  for (let p = from; p + 8 <= buf.length; p++) {
    const bytes = buf.readUInt32LE(p);
    if (bytes === 0 || bytes > buf.length - p - 8) continue;
    if (crc32(buf, p + 8, p + 8 + bytes) === buf.readUInt32LE(p + 4)) return p;
  }
  return -1;
}

function zerosFrom(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Applies one record to the replayed log, checking every invariant a write checks. */
export function applyRecord(log: ReplayedLog, r: DecodedRecord, where: string): void {
  const bad = (why: string) => new DrlError('storage_corrupt', `${where}: ${why}`);
  const snapIndex = () => log.snapshot?.index ?? 0;
  const last = () => snapIndex() + log.terms.length;
  if (r.kind === RecordKind.reset) {
    log.snapshot = r.snapshot;
    log.terms = [];
    log.offsets = [];
  } else if (r.kind === RecordKind.compact) {
    const meta = r.snapshot!;
    if (meta.index < snapIndex() || meta.index > last()) throw bad(`compaction to ${meta.index}`);
    const drop = meta.index - snapIndex();
    if (drop > 0 && log.terms[drop - 1] !== meta.term) throw bad(`compaction term ${meta.term}`);
    log.terms = log.terms.slice(drop);
    log.offsets = log.offsets.slice(drop);
    log.snapshot = meta;
  }
  const n = r.terms.length;
  if (n > 0) {
    const first = r.firstIndex;
    if (first <= snapIndex() || first > last() + 1) throw bad(`entries from ${first}`);
    if (first <= log.hardState.commit) throw bad(`entries from ${first} rewrite committed ones`);
    const keep = first - snapIndex() - 1;
    log.terms.length = keep;
    log.offsets.length = keep;
    for (let i = 0; i < n; i++) {
      log.terms.push(r.terms[i]!);
      log.offsets.push(r.entryOffsets[i]!);
    }
  }
  const hs = r.hardState;
  const prev = log.hardState;
  if (r.kind !== RecordKind.reset && (hs.term < prev.term || hs.commit < prev.commit)) {
    throw bad(`hard state ${prev.term}/${prev.commit} -> ${hs.term}/${hs.commit}`);
  }
  if (hs.commit > last()) throw bad(`commit ${hs.commit} beyond the last entry ${last()}`);
  log.hardState = hs;
}

/** The path of segment `seq` in `dir`. */
export function segmentPath(dir: string, seq: number): string {
  return join(dir, segmentName(seq));
}
