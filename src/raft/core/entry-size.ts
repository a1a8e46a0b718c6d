import type { Entry } from '../types.js';

/** Bytes an entry costs on the wire and in flow control: payload plus a fixed header. */
export function entrySize(entry: Entry): number {
  return entry.data.byteLength + 24;
}
