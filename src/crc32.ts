/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib). One copy for the whole
 * project: Raft log entries, snapshot streams and the limiter's snapshot frames. Through
 * node:zlib's native crc32 where the runtime has it (Node >= 20.15 / 22.2), the table-driven
 * JS otherwise: the same values (tested), so files and streams move freely between runtimes.
 * A pure function either way (no I/O), so the limiter may use it.
 */
import zlib from 'node:zlib';

type NativeCrc32 = (data: Uint8Array | string, value?: number) => number;
const native = (zlib as { crc32?: NativeCrc32 }).crc32;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** crc32Update by the JS table alone (the fallback; tests compare the two). */
export function crc32UpdatePortable(
  crc: number,
  bytes: Uint8Array,
  from = 0,
  to = bytes.length,
): number {
  let c = ~crc >>> 0;
  for (let i = from; i < to; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Continues a CRC over bytes[from, to); start with crc = 0. Returns an unsigned 32-bit value. */
export function crc32Update(crc: number, bytes: Uint8Array, from = 0, to = bytes.length): number {
  // Also for zlib's sake: an empty Buffer with no data pointer (SQLite's empty blob) makes it
  // return 0 instead of the running value.
  if (to <= from) return crc >>> 0;
  if (native === undefined) return crc32UpdatePortable(crc, bytes, from, to);
  return native(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to), crc);
}

export function crc32(bytes: Uint8Array, from = 0, to = bytes.length): number {
  return crc32Update(0, bytes, from, to);
}

/** CRC-32 of a string's UTF-8 bytes (zlib takes the string as is: no encoded copy). */
export function crc32Text(text: string): number {
  return native === undefined ? crc32(new TextEncoder().encode(text)) : native(text);
}
