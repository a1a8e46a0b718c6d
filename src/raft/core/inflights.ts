/**
 * Flow control for one follower in replicate state (etcd's tracker/inflights): a ring of the
 * last index and byte size of each App message in flight. Full when either the message count
 * or the byte total reaches its bound, which pauses pipelining until acks free slots.
 */
export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private countNow = 0;
  private bytesNow = 0;

  constructor(
    private readonly maxMsgs: number,
    private readonly maxBytes: number,
  ) {
    if (maxMsgs < 1) throw new RangeError('maxInflightMsgs must be >= 1');
    this.indexes = new Array<number>(maxMsgs).fill(0);
    this.sizes = new Array<number>(maxMsgs).fill(0);
  }

  get count(): number {
    return this.countNow;
  }

  get bytes(): number {
    return this.bytesNow;
  }

  /** Records an App message whose last entry is `index`. Indexes must increase. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new Error('raft inflights: add while full');
    const slot = (this.start + this.countNow) % this.maxMsgs;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.countNow++;
    this.bytesNow += bytes;
  }

  /** Frees every message whose last index is <= `to` (acked). */
  freeLE(to: number): void {
    while (this.countNow > 0) {
      const index = this.indexes[this.start] ?? 0;
      if (index > to) break;
      this.bytesNow -= this.sizes[this.start] ?? 0;
      this.start = (this.start + 1) % this.maxMsgs;
      this.countNow--;
    }
    if (this.countNow === 0) this.start = 0;
  }

  full(): boolean {
    return this.countNow >= this.maxMsgs || (this.maxBytes > 0 && this.bytesNow >= this.maxBytes);
  }

  reset(): void {
    this.start = 0;
    this.countNow = 0;
    this.bytesNow = 0;
  }
}
