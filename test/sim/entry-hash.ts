/**
 * 32-bit hashes that identify entries and log prefixes cheaply, so Log Matching and State
 * Machine Safety are checked in O(1) per entry instead of by comparing whole logs.
 */
import type { Entry } from '../../src/raft/types.js';

export function entryHash(entry: Entry): number {
  let h = 0x811c9dc5 ^ entry.term;
  h = Math.imul(h, 0x01000193) ^ entry.type;
  h = Math.imul(h, 0x01000193);
  const data = entry.data;
  for (let i = 0; i < data.length; i++) {
    h = Math.imul(h ^ (data[i] as number), 0x01000193);
  }
  return h >>> 0;
}

/** Hash of a log prefix ending at `entry`, chained from the prefix hash before it. */
export function chainHash(prevHash: number, entry: Entry): number {
  let h = Math.imul(prevHash ^ entryHash(entry), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ entry.index, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
