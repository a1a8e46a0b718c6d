/**
 * A FIFO/deque in a ring that doubles when full and clears every slot it gives up (shift, pop,
 * truncation, growth). Long-lived queues of short-lived records use it instead of an array
 * grown by push and replaced by slice: the old backing stores of such an array stay in the old
 * generation still pointing at young records, and a scavenge treats those pointers as live, so
 * nearly every record was copied and promoted (the core's log entries, a leader's pending
 * proposals: docs/notes/raft-io.md, "What the scavenges copied").
 */
export class ClearingRing<T> {
  private ring: (T | undefined)[];
  private mask: number;
  private start = 0;
  private count = 0;

  constructor(capacityLog2 = 6) {
    this.ring = new Array<T | undefined>(1 << capacityLog2).fill(undefined);
    this.mask = this.ring.length - 1;
  }

  get length(): number {
    return this.count;
  }

  /** The i-th item (0 = oldest), undefined outside [0, length). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.ring[(this.start + i) & this.mask];
  }

  push(item: T): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.start + this.count) & this.mask] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.ring[this.start];
    this.dropFront(1);
    return item;
  }

  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.at(this.count - 1);
    this.truncate(this.count - 1);
    return item;
  }

  /** Keeps the first `n` items. */
  truncate(n: number): void {
    if (n < 0 || n > this.count) throw new Error(`ring: truncate to ${n} of ${this.count}`);
    for (let i = n; i < this.count; i++) this.ring[(this.start + i) & this.mask] = undefined;
    this.count = n;
  }

  /** Drops the oldest `n` items. */
  dropFront(n: number): void {
    if (n < 0 || n > this.count) throw new Error(`ring: drop ${n} of ${this.count}`);
    for (let i = 0; i < n; i++) this.ring[(this.start + i) & this.mask] = undefined;
    this.start = (this.start + n) & this.mask;
    this.count -= n;
  }

  /** Items [lo, hi) as a new array (clamped to what is held). */
  slice(lo: number, hi = this.count): T[] {
    lo = Math.max(0, lo);
    hi = Math.min(hi, this.count);
    const out: T[] = [];
    for (let i = lo; i < hi; i++) out.push(this.ring[(this.start + i) & this.mask] as T);
    return out;
  }

  clear(): void {
    this.truncate(0);
    this.start = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.start + i) & this.mask];
    this.ring.fill(undefined);
    this.ring = next;
    this.mask = next.length - 1;
    this.start = 0;
  }
}
