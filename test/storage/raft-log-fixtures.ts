/** Entries for the Raft log store tests (both stores: SQLite and segment files). */
import { type Entry, EntryType } from '../../src/raft/types.js';

export function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: Buffer.from(text) };
}

/** Entries lo..hi (inclusive) of one term. */
export function range(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term));
  return out;
}

export function text(e: Entry | undefined): string {
  return e ? Buffer.from(e.data).toString() : '<none>';
}
