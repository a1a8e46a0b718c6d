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
  /**
   * Per slot: 0 if clean, else 1 + its position in changedKeys/changedSlots. An evicted slot's
   * entry is voided (slot -1) so a later key in the same slot is never paired with the old key.
   */
  private dirtyAt = new Int32Array(0);
  private changedKeys: string[] = [];
  private changedSlots: number[] = [];
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
        const marks = new Int32Array(capacity);
        marks.set(this.dirtyAt);
        this.dirtyAt = marks;
        this.capacity = capacity;
      }
      slot = this.nextSlot++;
    }
    this.keys.insert(key, slot);
    return slot;
  }

  protected releaseSlot(slot: number): void {
    if (this.tracking) {
      const at = this.dirtyAt[slot]!;
      if (at !== 0) this.changedSlots[at - 1] = -1;
      this.dirtyAt[slot] = 0;
      this.evictedKeys.push(this.keys.keyOf(slot));
    }
    this.keys.remove(slot);
    this.freeSlots.push(slot);
  }

  /** Called after a recorded grant. */
  protected markDirty(key: string, slot: number): void {
    if (this.tracking && this.dirtyAt[slot] === 0) {
      this.changedKeys.push(key);
      this.dirtyAt[slot] = this.changedSlots.push(slot);
    }
  }

  startTracking(): void {
    this.tracking = true;
  }

  /**
   * Keys granted to since the last take, each with its slot (-1: evicted since, its slot maybe
   * reused: skip it, `evicted` has it), and the evicted keys; resets all. The slots save the
   * snapshot a key lookup per changed key (one per applied entry under spread traffic).
   */
  takeDirty(): { changed: string[]; slots: number[]; evicted: string[] } {
    const changed = this.changedKeys;
    const slots = this.changedSlots;
    const evicted = this.evictedKeys;
    const dirtyAt = this.dirtyAt;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot >= 0) dirtyAt[slot] = 0;
    }
    this.changedKeys = [];
    this.changedSlots = [];
    this.evictedKeys = [];
    return { changed, slots, evicted };
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
