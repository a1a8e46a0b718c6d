import { ClearingRing } from '../core/clearing-ring.js';

/**
 * Records in strictly rising `index` order, oldest first: a leader's pending proposals (it
 * proposes at rising indices). A ring, not a Map keyed by index: a Map churned its hash table
 * (a new table on every grow, shrink and tombstone rehash, the obsolete one pointing at its
 * successor), and once one table had reached the old generation every later one was promoted.
 */
export class IndexOrderedQueue<T extends { readonly index: number }> {
  private readonly ring = new ClearingRing<T>();

  get size(): number {
    return this.ring.length;
  }

  first(): T | undefined {
    return this.ring.at(0);
  }

  last(): T | undefined {
    return this.ring.at(this.ring.length - 1);
  }

  push(item: T): void {
    const tail = this.last();
    if (tail !== undefined && item.index <= tail.index) {
      throw new Error(`index-ordered queue: push ${item.index} after ${tail.index}`);
    }
    this.ring.push(item);
  }

  shift(): T | undefined {
    return this.ring.shift();
  }

  pop(): T | undefined {
    return this.ring.pop();
  }

  /** The record with this index, if queued: the head (the usual answer), else a binary search. */
  find(index: number): T | undefined {
    const head = this.ring.at(0);
    if (head === undefined || head.index === index) return head;
    let lo = 1;
    let hi = this.ring.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.ring.at(mid)!;
      if (item.index === index) return item;
      if (item.index < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
