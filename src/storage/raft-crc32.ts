/**
 * The checksums of the Raft log store: CRC-32 (IEEE, as src/crc32.ts), through node:zlib's
 * native crc32 where the runtime has it (Node >= 20.15 / 22.2) and the table-driven JS copy
 * otherwise. Same values either way (tested), so files move freely between runtimes.
 */
import zlib from 'node:zlib';
import { crc32, crc32Update } from '../crc32.js';

type NativeCrc32 = (data: Uint8Array | string, value?: number) => number;
const nativeCrc32 = (zlib as { crc32?: NativeCrc32 }).crc32;

const headerScratch = new DataView(new ArrayBuffer(17));
const headerBytes = new Uint8Array(headerScratch.buffer);

/** Checksum of one log entry: CRC32 over index (f64) | term (f64) | type (u8) | data. */
export function entryChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setUint8(16, type);
  if (nativeCrc32) {
    const head = nativeCrc32(headerBytes);
    // An empty Buffer from SQLite can have a null data pointer, for which zlib returns 0, not
    // the running value.
    return data.length === 0 ? head : nativeCrc32(data, head);
  }
  return crc32Update(crc32(headerBytes), data);
}

/** entryChecksum without node:zlib (the fallback; tests compare the two). */
export function entryChecksumPortable(
  index: number,
  term: number,
  type: number,
  data: Uint8Array,
): number {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setUint8(16, type);
  return crc32Update(crc32(headerBytes), data);
}

/** CRC32 of a string's UTF-8 bytes (the hard state row's checksum). */
export function textChecksum(text: string): number {
  if (nativeCrc32) return nativeCrc32(text);
  return crc32(Buffer.from(text, 'utf8'));
}

/** Whether entryChecksum runs natively (reported by the micro bench). */
export const nativeChecksums = nativeCrc32 !== undefined;
