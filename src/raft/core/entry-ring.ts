import type { Entry } from '../types.js';

/**
 * The in-memory log's entries, oldest first, in a ring that doubles when full and clears every
 * slot it gives up (compaction, truncation, growth). A plain array grown by push and replaced by
 * slice at each compaction left its old backing stores in the old generation still pointing at
 * young entries; a scavenge treats such pointers as live, so nearly every entry was copied and
 * promoted even when the log had dropped it (the follower's and leader's scavenges each promoted
 * ~0.25 MB at 10,000 entries/s).
 */
export class EntryRing {
  private ring: (Entry | undefined)[];
  private mask: number;
  private start = 0;
  private count = 0;

  constructor(capacityLog2 = 10) {
    this.ring = new Array<Entry | undefined>(1 << capacityLog2).fill(undefined);
    this.mask = this.ring.length - 1;
  }

  get length(): number {
    return this.count;
  }

  /** The i-th entry (0 = oldest), undefined outside [0, length). */
  at(i: number): Entry | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.ring[(this.start + i) & this.mask];
  }

  push(e: Entry): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.start + this.count) & this.mask] = e;
    this.count++;
  }

  /** Keeps the first `n` entries. */
  truncate(n: number): void {
    if (n < 0 || n > this.count) throw new Error(`entry ring: truncate to ${n} of ${this.count}`);
    for (let i = n; i < this.count; i++) this.ring[(this.start + i) & this.mask] = undefined;
    this.count = n;
  }

  /** Drops the oldest `n` entries. */
  dropFront(n: number): void {
    if (n < 0 || n > this.count) throw new Error(`entry ring: drop ${n} of ${this.count}`);
    for (let i = 0; i < n; i++) this.ring[(this.start + i) & this.mask] = undefined;
    this.start = (this.start + n) & this.mask;
    this.count -= n;
  }

  /** Entries [lo, hi) as a new array (clamped to what is held). */
  slice(lo: number, hi = this.count): Entry[] {
    lo = Math.max(0, lo);
    hi = Math.min(hi, this.count);
    const out: Entry[] = [];
    for (let i = lo; i < hi; i++) out.push(this.ring[(this.start + i) & this.mask]!);
    return out;
  }

  clear(): void {
    this.truncate(0);
    this.start = 0;
  }

  private grow(): void {
    const next = new Array<Entry | undefined>(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.start + i) & this.mask];
    this.ring.fill(undefined);
    this.ring = next;
    this.mask = next.length - 1;
    this.start = 0;
  }
}
