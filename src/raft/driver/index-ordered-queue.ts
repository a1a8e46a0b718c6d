/**
 * A FIFO of records in strictly rising `index` order, in a ring that grows by doubling and
 * clears every slot it gives up. Built for the proposals a leader waits on: a Map keyed by index
 * churned its hash table (a new table on every grow, shrink and tombstone rehash, the obsolete
 * one pointing at its successor), and once one table had reached the old generation every later
 * one was kept alive through that pointer and promoted: ~1 MB per second of tables at 10,000
 * proposals/s, copied by every scavenge. This ring is allocated rarely and lives long; what
 * leaves it is unreachable at once.
 */
export class IndexOrderedQueue<T extends { readonly index: number }> {
  private ring: (T | undefined)[];
  private mask: number;
  private head = 0;
  private count = 0;

  constructor(capacityLog2 = 6) {
    this.ring = new Array<T | undefined>(1 << capacityLog2).fill(undefined);
    this.mask = this.ring.length - 1;
  }

  get size(): number {
    return this.count;
  }

  first(): T | undefined {
    return this.count === 0 ? undefined : this.ring[this.head];
  }

  last(): T | undefined {
    return this.count === 0 ? undefined : this.ring[(this.head + this.count - 1) & this.mask];
  }

  push(item: T): void {
    const tail = this.last();
    if (tail !== undefined && item.index <= tail.index) {
      throw new Error(`index-ordered queue: push ${item.index} after ${tail.index}`);
    }
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const at = (this.head + this.count - 1) & this.mask;
    const item = this.ring[at];
    this.ring[at] = undefined;
    this.count--;
    return item;
  }

  /** The record with this index, if queued (binary search: the head is the usual answer). */
  find(index: number): T | undefined {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.ring[(this.head + mid) & this.mask]!;
      if (item.index === index) return item;
      if (item.index < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) & this.mask];
    this.ring.fill(undefined);
    this.ring = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}
