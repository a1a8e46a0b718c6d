/** The checksums of the Raft log store, on the project's one CRC-32 (src/crc32.ts). */
import { crc32, crc32Text, crc32Update, crc32UpdatePortable } from '../crc32.js';

const headerScratch = new DataView(new ArrayBuffer(17));
const headerBytes = new Uint8Array(headerScratch.buffer);

/** index (f64) | term (f64) | type (u8), in a reused scratch buffer. */
function entryHeader(index: number, term: number, type: number): Uint8Array {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setUint8(16, type);
  return headerBytes;
}

/** Checksum of one log entry: CRC32 over index (f64) | term (f64) | type (u8) | data. */
export function entryChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  return crc32Update(crc32(entryHeader(index, term, type)), data);
}

/** entryChecksum by the JS table alone (tests compare the two). */
export function entryChecksumPortable(
  index: number,
  term: number,
  type: number,
  data: Uint8Array,
): number {
  return crc32UpdatePortable(crc32UpdatePortable(0, entryHeader(index, term, type)), data);
}

/** CRC32 of a string's UTF-8 bytes (the hard state row's checksum). */
export const textChecksum = crc32Text;
