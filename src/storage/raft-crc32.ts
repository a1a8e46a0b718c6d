/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven. Used for the per-entry
 * checksum of the Raft log store; zlib.crc32 only exists from Node 20.15/22.2, so we carry our own.
 */

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** Continues a CRC over `bytes`; start with crc = 0. Returns an unsigned 32-bit value. */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}

const headerScratch = new DataView(new ArrayBuffer(17));
const headerBytes = new Uint8Array(headerScratch.buffer);

/** Checksum of one log entry: CRC32 over index (f64) | term (f64) | type (u8) | data. */
export function entryChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setUint8(16, type);
  return crc32Update(crc32(headerBytes), data);
}
