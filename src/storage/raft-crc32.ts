/** The per-entry checksum of the Raft log store (CRC-32 from src/crc32.ts). */
import { crc32, crc32Update } from '../crc32.js';

const headerScratch = new DataView(new ArrayBuffer(17));
const headerBytes = new Uint8Array(headerScratch.buffer);

/** Checksum of one log entry: CRC32 over index (f64) | term (f64) | type (u8) | data. */
export function entryChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setUint8(16, type);
  return crc32Update(crc32(headerBytes), data);
}
