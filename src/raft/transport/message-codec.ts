import type {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  SnapshotChunk,
  SnapshotMeta,
} from '../types.js';
import { type ByteReader, CodecError } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';

/**
 * Hand-written binary layout of a Raft Message (no JSON on the hot path):
 *   u8 type | str from | str to | varint term, logTerm, index, commit, rejectHint, context,
 *   clockMs (0 = none)
 *   | u8 flags (1 = reject, 2 = snapshot) | varint n | n x entry | [snapshot chunk]
 * entry: zigzag(index - previous index - 1) | zigzag(term - previous term) | u8 type | bytes data
 * Entries of one message are contiguous and usually of one term, so index and term cost one byte
 * each and a 64-byte entry costs 68 bytes.
 */

const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
const MESSAGE_TYPE_MAX = 10;
const ENTRY_TYPE_MAX = 1;
/** Bounds on collection sizes read from the wire, so a bad frame cannot make us loop long. */
const ENTRIES_PER_MESSAGE_MAX = 1 << 20;
const CONF_MEMBERS_MAX = 1024;

export function encodeMessage(w: ByteWriter, m: Message): void {
  w.u8(m.type);
  w.str(m.from);
  w.str(m.to);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.commit);
  w.varint(m.rejectHint);
  w.varint(m.context);
  w.varint(m.clockMs !== undefined && m.clockMs > 0 ? Math.floor(m.clockMs) : 0);
  w.u8((m.reject ? FLAG_REJECT : 0) | (m.snapshot ? FLAG_SNAPSHOT : 0));
  encodeEntries(w, m.entries);
  if (m.snapshot) encodeChunk(w, m.snapshot);
}

export function decodeMessage(r: ByteReader): Message {
  const type = r.u8();
  if (type > MESSAGE_TYPE_MAX) throw new CodecError(`unknown message type ${type}`);
  const from = r.str();
  const to = r.str();
  const term = r.varint();
  const logTerm = r.varint();
  const index = r.varint();
  const commit = r.varint();
  const rejectHint = r.varint();
  const context = r.varint();
  const clockMs = r.varint();
  const flags = r.u8();
  const entries = decodeEntries(r);
  const snapshot = flags & FLAG_SNAPSHOT ? decodeChunk(r) : null;
  const m: Message = {
    type: type as MessageType,
    from,
    to,
    term,
    logTerm,
    index,
    commit,
    entries,
    reject: (flags & FLAG_REJECT) !== 0,
    rejectHint,
    context,
    snapshot,
  };
  if (clockMs > 0) m.clockMs = clockMs;
  return m;
}

function encodeEntries(w: ByteWriter, entries: Entry[]): void {
  w.varint(entries.length);
  let prevIndex = 0;
  let prevTerm = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    w.zigzag(e.index - prevIndex - 1);
    w.zigzag(e.term - prevTerm);
    w.u8(e.type);
    w.bytes(e.data);
    prevIndex = e.index;
    prevTerm = e.term;
  }
}

function decodeEntries(r: ByteReader): Entry[] {
  const n = r.varint();
  if (n > ENTRIES_PER_MESSAGE_MAX) throw new CodecError(`too many entries: ${n}`);
  const entries: Entry[] = new Array(n);
  let index = 0;
  let term = 0;
  for (let i = 0; i < n; i++) {
    index += r.zigzag() + 1;
    term += r.zigzag();
    const type = r.u8();
    if (type > ENTRY_TYPE_MAX) throw new CodecError(`unknown entry type ${type}`);
    if (index < 0 || term < 0) throw new CodecError('negative index or term');
    entries[i] = { index, term, type: type as EntryType, data: r.bytes() };
  }
  return entries;
}

function encodeChunk(w: ByteWriter, c: SnapshotChunk): void {
  encodeMeta(w, c.meta);
  w.varint(c.offset);
  w.bytes(c.data);
  w.u8(c.done ? 1 : 0);
  w.u32(c.checksum);
}

function decodeChunk(r: ByteReader): SnapshotChunk {
  const meta = decodeMeta(r);
  const offset = r.varint();
  const data = r.bytes();
  const done = r.u8() === 1;
  const checksum = r.u32();
  return { meta, offset, data, done, checksum };
}

function encodeMeta(w: ByteWriter, m: SnapshotMeta): void {
  w.varint(m.index);
  w.varint(m.term);
  encodeIds(w, m.conf.voters);
  encodeIds(w, m.conf.learners);
}

function decodeMeta(r: ByteReader): SnapshotMeta {
  const index = r.varint();
  const term = r.varint();
  const conf: ConfState = { voters: decodeIds(r), learners: decodeIds(r) };
  return { index, term, conf };
}

function encodeIds(w: ByteWriter, ids: string[]): void {
  w.varint(ids.length);
  for (const id of ids) w.str(id);
}

function decodeIds(r: ByteReader): string[] {
  const n = r.varint();
  if (n > CONF_MEMBERS_MAX) throw new CodecError(`too many members: ${n}`);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(r.str());
  return ids;
}
