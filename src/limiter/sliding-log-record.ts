import { DrlError } from '../errors.js';
import { ALGORITHM_CODES } from './window-store.js';

/**
 * The two snapshot records of a sliding-log key (the `data` of a window record; its first byte
 * is the record code, which says the algorithm too). Big-endian.
 *
 * - code 1, "per-entry" (every version): u8 1 | u32 count | count x (f64 ts, u32 cost, u32
 *   windowMs). 16 bytes per grant. Written for a key whose live grants have different windows
 *   (rare: only after a rule's or override's window changed), and on the wire to peers (see
 *   `portableWindow`). Schema 2 and older files hold only this form.
 * - code 4, "one window" (since schema version 3): u8 4 | u8 flags (bit 0: costed) | u32
 *   windowMs | f64 base ts (the oldest grant's) | u32 count | count x (varint ts - previous
 *   grant's ts (the first: - base) [, varint cost if costed]). Varints are LEB128, at most 5
 *   bytes, values below 2^32. Grants a second apart take 2 bytes each (16 in code 1). Written for
 *   a key whose live grants share one window: every key under spread traffic, where a snapshot
 *   writes one record per applied entry, so the record's size is much of its SQLite work.
 *
 * A reader that does not know a code refuses the record (storage_corrupt, see the engine's
 * algorithmOfWindow): a record is never guessed at.
 */
export const SLIDING_LOG_UNIFORM_CODE = 4;
export const UNIFORM_HEADER_BYTES = 18;
const PER_ENTRY_HEADER_BYTES = 5;
const PER_ENTRY_BYTES = 16;
const COSTED = 1;

/** One decoded grant; `visit` returns nothing, the caller keeps what it needs. */
export type EntryVisitor = (ts: number, cost: number, windowMs: number, left: number) => void;

const VARINT_BYTES_MAX = 5;
const U32_MAX = 0xffffffff;

/**
 * Builds one-window records into a reused scratch buffer (a snapshot encodes one per dirty key):
 * `start`, `grant` per live grant oldest first, `finish` returns a copy of exactly its bytes.
 */
export class UniformRecordWriter {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  private at = 0;
  private prev = 0;
  private left = 0;
  private costed = false;

  /** `baseTs`: the oldest grant's ts; grants are then given as ms after it. */
  start(count: number, costed: boolean, windowMs: number, baseTs: number): void {
    const need = UNIFORM_HEADER_BYTES + count * 2 * VARINT_BYTES_MAX;
    if (need > this.buf.length) {
      this.buf = new Uint8Array(Math.max(need, this.buf.length * 2));
      this.view = new DataView(this.buf.buffer);
    }
    const view = this.view;
    view.setUint8(0, SLIDING_LOG_UNIFORM_CODE);
    view.setUint8(1, costed ? COSTED : 0);
    view.setUint32(2, windowMs);
    view.setFloat64(6, baseTs);
    view.setUint32(14, count);
    this.at = UNIFORM_HEADER_BYTES;
    this.prev = 0;
    this.left = count;
    this.costed = costed;
  }

  /** The next grant: `offset` ms after the base (non-decreasing), of `cost` (1 unless costed). */
  grant(offset: number, cost: number): void {
    if (this.left-- <= 0 || offset < this.prev || offset > U32_MAX) {
      throw new Error('sliding-log record: grants out of order or more than counted');
    }
    this.varint(offset - this.prev);
    this.prev = offset;
    if (this.costed) this.varint(cost);
    else if (cost !== 1) throw new Error('sliding-log record: a cost in a unit record');
  }

  /** A copy of exactly the record's bytes. */
  finish(): Uint8Array {
    if (this.left !== 0) throw new Error('sliding-log record: fewer grants than counted');
    return this.buf.slice(0, this.at);
  }

  private varint(value: number): void {
    const buf = this.buf;
    let at = this.at;
    let v = value;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at++] = v;
    this.at = at;
  }
}

const writer = new UniformRecordWriter();

/** The module's writer (one record at a time: encoding never re-enters). */
export function uniformWriter(): UniformRecordWriter {
  return writer;
}

/**
 * The record of these live grants (ts order): the one-window form when they share one window,
 * costs written only if one is not 1; the per-entry form otherwise. The form depends on the grants
 * alone, so a key restored from either form encodes to the same bytes as the original.
 */
export function encodeGrants(tss: number[], costs: number[], wins: number[]): Uint8Array {
  const n = tss.length;
  if (wins.every((w) => w === wins[0])) {
    writer.start(
      n,
      costs.some((c) => c !== 1),
      wins[0]!,
      tss[0]!,
    );
    for (let i = 0; i < n; i++) writer.grant(tss[i]! - tss[0]!, costs[i]!);
    return writer.finish();
  }
  const record = new PerEntryRecord(n);
  for (let i = 0; i < n; i++) record.grant(tss[i]!, costs[i]!, wins[i]!);
  return record.bytes;
}

/** A per-entry (code 1) record of `count` grants, written oldest first by `grant`. */
class PerEntryRecord {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = PER_ENTRY_HEADER_BYTES;

  constructor(count: number) {
    this.bytes = new Uint8Array(PER_ENTRY_HEADER_BYTES + count * PER_ENTRY_BYTES);
    this.view = new DataView(this.bytes.buffer);
    this.view.setUint8(0, ALGORITHM_CODES['sliding-log']);
    this.view.setUint32(1, count);
  }

  grant(ts: number, cost: number, windowMs: number): void {
    if (this.at >= this.bytes.length)
      throw new Error('sliding-log record: more grants than counted');
    this.view.setFloat64(this.at, ts);
    this.view.setUint32(this.at + 8, cost);
    this.view.setUint32(this.at + 12, windowMs);
    this.at += PER_ENTRY_BYTES;
  }
}

/**
 * Calls `visit` for each grant of a sliding-log record of either code, oldest first, with the
 * number of grants left after it. Checks the layout only (lengths, flags, ts order and
 * non-zero costs and windows); what the values must satisfy beyond that is the caller's.
 */
export function forEachLogEntry(data: Uint8Array, key: string, visit: EntryVisitor): void {
  const bad = () =>
    new DrlError('storage_corrupt', `bad sliding-log window for key ${JSON.stringify(key)}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const code = data.byteLength > 0 ? view.getUint8(0) : -1;
  if (code === ALGORITHM_CODES['sliding-log']) {
    const count = data.byteLength >= PER_ENTRY_HEADER_BYTES ? view.getUint32(1) : -1;
    if (data.byteLength !== PER_ENTRY_HEADER_BYTES + count * PER_ENTRY_BYTES) throw bad();
    let previous = Number.NEGATIVE_INFINITY;
    for (let i = 0, at = PER_ENTRY_HEADER_BYTES; i < count; i++, at += PER_ENTRY_BYTES) {
      const ts = view.getFloat64(at);
      const cost = view.getUint32(at + 8);
      const windowMs = view.getUint32(at + 12);
      if (!(ts >= previous) || cost === 0 || windowMs === 0) throw bad();
      previous = ts;
      visit(ts, cost, windowMs, count - i - 1);
    }
    return;
  }
  if (code !== SLIDING_LOG_UNIFORM_CODE || data.byteLength < UNIFORM_HEADER_BYTES) throw bad();
  const flags = view.getUint8(1);
  const windowMs = view.getUint32(2);
  const base = view.getFloat64(6);
  const count = view.getUint32(14);
  if (flags > COSTED || windowMs === 0 || !Number.isSafeInteger(base)) throw bad();
  // Each grant takes at least one byte (two if costed): a count beyond that is corrupt.
  const end = data.byteLength;
  if (count > (end - UNIFORM_HEADER_BYTES) / (flags === COSTED ? 2 : 1)) throw bad();
  let at = UNIFORM_HEADER_BYTES;
  let offset = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= end) throw bad();
      const b = data[at++]!;
      if (shift === 28 && b > 0x0f) throw bad();
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  for (let i = 0; i < count; i++) {
    offset += varint();
    const cost = flags === COSTED ? varint() : 1;
    if (offset > U32_MAX || cost === 0) throw bad();
    visit(base + offset, cost, windowMs, count - i - 1);
  }
  if (at !== end) throw bad();
}

/**
 * The per-entry (code 1) form of a sliding-log record, the one every version reads; other
 * records are returned as they are. For bytes that leave this node (InstallSnapshot to a peer
 * that may run an older version: a mixed-version group keeps working during an upgrade).
 */
export function portableWindow(data: Uint8Array, key: string): Uint8Array {
  if (data[0] !== SLIDING_LOG_UNIFORM_CODE) return data;
  // A first pass checks the record before its count sizes anything.
  let count = 0;
  forEachLogEntry(data, key, () => {
    count++;
  });
  const record = new PerEntryRecord(count);
  forEachLogEntry(data, key, (ts, cost, windowMs) => record.grant(ts, cost, windowMs));
  return record.bytes;
}
