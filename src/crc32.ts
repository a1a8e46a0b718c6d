/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib), table driven. One copy for the
 * whole project: Raft log entries, snapshot streams and the limiter's snapshot frames. Pure (no
 * I/O), so the limiter may use it; zlib.crc32 only exists from Node 20.15/22.2.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Continues a CRC over bytes[from, to); start with crc = 0. Returns an unsigned 32-bit value. */
export function crc32Update(crc: number, bytes: Uint8Array, from = 0, to = bytes.length): number {
  let c = ~crc >>> 0;
  for (let i = from; i < to; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  return crc32Update(0, bytes, from, to);
}
