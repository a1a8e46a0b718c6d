import { DrlError } from '../errors.js';
import { ALGORITHM_CODES } from './window-store.js';

/**
 * The two snapshot records of a sliding-log key (the `data` of a window record; its first byte
 * is the record code, which says the algorithm too). Big-endian.
 *
 * - code 1, "per-entry" (every version): u8 1 | u32 count | count x (f64 ts, u32 cost, u32
 *   windowMs). 16 bytes per grant. Written for a key whose grants have different windows (rare:
 *   only after a rule's or override's window changed), and on the wire to peers (see
 *   `portableWindow`).
 * - code 4, "one window" (since schema version 3): u8 4 | u8 flags (bit 0: costed) | u32
 *   windowMs | f64 base ts | u32 count | count x (u32 ts - base [, u32 cost if costed]). 4 bytes
 *   per grant of a unit-cost key, 8 if costed. Written for a key whose live grants share one window:
 *   every key under spread traffic, where a snapshot writes one record per applied entry, so the
 *   record's size is most of the snapshot's SQLite work.
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

/** An empty one-window record for `live` grants; the caller fills the entries from byte 18. */
export function uniformRecord(
  live: number,
  costed: boolean,
  windowMs: number,
  baseTs: number,
): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(UNIFORM_HEADER_BYTES + live * (costed ? 8 : 4));
  const view = new DataView(bytes.buffer);
  view.setUint8(0, SLIDING_LOG_UNIFORM_CODE);
  view.setUint8(1, costed ? COSTED : 0);
  view.setUint32(2, windowMs);
  view.setFloat64(6, baseTs);
  view.setUint32(14, live);
  return { bytes, view };
}

/**
 * The record of these live grants (ts order): the one-window form when they share one window,
 * costs written only if one is not 1; the per-entry form otherwise. The form depends on the grants
 * alone, so a key restored from either form encodes to the same bytes as the original.
 */
export function encodeGrants(tss: number[], costs: number[], wins: number[]): Uint8Array {
  const n = tss.length;
  if (wins.every((w) => w === wins[0])) {
    const costed = costs.some((c) => c !== 1);
    const { bytes, view } = uniformRecord(n, costed, wins[0]!, tss[0]!);
    const width = costed ? 8 : 4;
    for (let i = 0; i < n; i++) {
      view.setUint32(UNIFORM_HEADER_BYTES + i * width, tss[i]! - tss[0]!);
      if (costed) view.setUint32(UNIFORM_HEADER_BYTES + i * width + 4, costs[i]!);
    }
    return bytes;
  }
  const bytes = new Uint8Array(PER_ENTRY_HEADER_BYTES + n * PER_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, ALGORITHM_CODES['sliding-log']);
  view.setUint32(1, n);
  for (let i = 0, at = PER_ENTRY_HEADER_BYTES; i < n; i++, at += PER_ENTRY_BYTES) {
    view.setFloat64(at, tss[i]!);
    view.setUint32(at + 8, costs[i]!);
    view.setUint32(at + 12, wins[i]!);
  }
  return bytes;
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
  const width = flags === COSTED ? 8 : 4;
  if (data.byteLength !== UNIFORM_HEADER_BYTES + count * width) throw bad();
  let previous = 0;
  for (let i = 0, at = UNIFORM_HEADER_BYTES; i < count; i++, at += width) {
    const offset = view.getUint32(at);
    const cost = width === 8 ? view.getUint32(at + 4) : 1;
    if (offset < previous || cost === 0) throw bad();
    previous = offset;
    visit(base + offset, cost, windowMs, count - i - 1);
  }
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
  const out = new Uint8Array(PER_ENTRY_HEADER_BYTES + count * PER_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, ALGORITHM_CODES['sliding-log']);
  view.setUint32(1, count);
  let at = PER_ENTRY_HEADER_BYTES;
  forEachLogEntry(data, key, (ts, cost, windowMs) => {
    view.setFloat64(at, ts);
    view.setUint32(at + 8, cost);
    view.setUint32(at + 12, windowMs);
    at += PER_ENTRY_BYTES;
  });
  return out;
}
