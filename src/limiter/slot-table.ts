import { KeyIndex } from './key-index.js';

/**
 * Slot bookkeeping shared by the window stores: key -> slot index (a KeyIndex, whose rows also
 * hold the store's record when the store asks for record words), recycled slots, and the dirty
 * marks an incremental snapshot needs. The index adds a row chunk as big as all before it (so
 * capacity doubles without copying rows); the subclass grows its own columns, if any, to match
 * (`resize`). A slot index stays valid for the key's whole life.
 */
export abstract class SlotTable {
  readonly keys: KeyIndex;
  protected capacity = 0;
  private nextSlot = 0;
  private readonly freeSlots: number[] = [];
  private tracking = false;
  private dirtyMark = new Uint8Array(0);
  private changedKeys: string[] = [];
  private evictedKeys: string[] = [];

  /** `recordWords`: Uint32 words per slot the store keeps in the index's rows, after the key. */
  constructor(recordWords: number) {
    this.keys = new KeyIndex(recordWords);
  }

  /** Reallocates every column to `capacity` slots, keeping the first `used` slots. */
  protected abstract resize(capacity: number, used: number): void;

  /** Adds `key` (absent: the last `keys.find(key)` returned -1) and returns its slot. */
  protected allocSlot(key: string): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.nextSlot === this.capacity) {
        const capacity = this.keys.grow();
        this.resize(capacity, this.nextSlot);
        const marks = new Uint8Array(capacity);
        marks.set(this.dirtyMark);
        this.dirtyMark = marks;
        this.capacity = capacity;
      }
      slot = this.nextSlot++;
    }
    this.keys.insert(key, slot);
    return slot;
  }

  protected releaseSlot(slot: number): void {
    if (this.tracking) {
      this.dirtyMark[slot] = 0;
      this.evictedKeys.push(this.keys.keyOf(slot));
    }
    this.keys.remove(slot);
    this.freeSlots.push(slot);
  }

  /** Called after a recorded grant. */
  protected markDirty(key: string, slot: number): void {
    if (this.tracking && this.dirtyMark[slot] === 0) {
      this.dirtyMark[slot] = 1;
      this.changedKeys.push(key);
    }
  }

  startTracking(): void {
    this.tracking = true;
  }

  takeDirty(): { changed: string[]; evicted: string[] } {
    const changed = this.changedKeys;
    const evicted = this.evictedKeys;
    for (const key of changed) {
      const slot = this.keys.find(key);
      if (slot >= 0) this.dirtyMark[slot] = 0;
    }
    this.changedKeys = [];
    this.evictedKeys = [];
    return { changed, evicted };
  }
}

/** Grows a typed array to `capacity`, keeping its first `used` elements. */
export function grown<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(
  array: T,
  capacity: number,
  used: number,
): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array.subarray(0, used));
  return next;
}
