import { KeyIndex } from './key-index.js';

/**
 * Slot bookkeeping shared by the window stores: key -> slot index (a KeyIndex, whose rows also
 * hold the store's record when the store asks for record words), recycled slots, and the dirty
 * marks an incremental snapshot needs, and the copy-on-write marks of a deferred snapshot (see
 * `freezeDirty`). The index adds a row chunk as big as all before it (so
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
  /**
   * A deferred snapshot's keys (freezeDirty): per slot 0, or 1 + its position in frozenSlots
   * while the slot still holds its state as of frozenTs (not yet written, not changed since).
   */
  private frozenAt = new Int32Array(0);
  private frozenKeys: string[] = [];
  private frozenSlots: number[] = [];
  /** Position in frozenSlots -> the state as of frozenTs, copied before a change (rare). */
  private readonly frozenCopies = new Map<number, Uint8Array | undefined>();
  private frozenTs = 0;
  private frozenActive = false;
  /** Frozen slots still marked: the stores' one check before a change (0 on the hot path). */
  protected frozenLeft = 0;

  /** `recordWords`: Uint32 words per slot the store keeps in the index's rows, after the key. */
  constructor(recordWords: number) {
    this.keys = new KeyIndex(recordWords);
  }

  /** Reallocates every column to `capacity` slots, keeping the first `used` slots. */
  protected abstract resize(capacity: number, used: number): void;

  /** The slot's state as of `ts` (WindowStore.encode). */
  abstract encode(slot: number, ts: number): Uint8Array | undefined;

  /** Adds `key` (absent: the last `keys.find(key)` returned -1) and returns its slot. */
  protected allocSlot(key: string): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.nextSlot === this.capacity) {
        const capacity = this.keys.grow();
        this.resize(capacity, this.nextSlot);
        this.dirtyAt = grown(this.dirtyAt, capacity, this.dirtyAt.length);
        this.frozenAt = grown(this.frozenAt, capacity, this.frozenAt.length);
        this.capacity = capacity;
      }
      slot = this.nextSlot++;
    }
    this.keys.insert(key, slot);
    return slot;
  }

  protected releaseSlot(slot: number): void {
    // The store preserves a frozen slot before it changes or frees it (the copy is taken there).
    if (this.frozenAt[slot] !== 0) throw new Error('slot-table: a frozen slot freed unpreserved');
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

  /** Keys changed or evicted since the last take: an upper bound on the next snapshot's rows. */
  get changedCount(): number {
    return this.changedSlots.length + this.evictedKeys.length;
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

  /**
   * Copy-on-write for a deferred snapshot as of `ts` (the engine's current ts): takes the dirty
   * keys like `takeDirty`, but leaves each live one marked so the snapshot reads its state
   * later, a slice at a time, from the slot itself (`frozenRecord`). Until then the store calls
   * `preserve(slot)` before it changes or frees a slot, which first copies a still-marked slot's
   * state as of `ts`. The capture is array swaps instead of an encode per changed key in one
   * event-loop turn (10,000 keys: 4-22 ms in a node under load). One at a time; returns the
   * evicted keys and how many frozen positions `frozenRecord` reads.
   */
  freezeDirty(ts: number): { evicted: string[]; frozen: number } {
    if (this.frozenActive) throw new Error('slot-table: a deferred snapshot is already frozen');
    const { changed, slots, evicted } = this.takeDirty();
    const frozenAt = this.frozenAt;
    let left = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot < 0) continue;
      frozenAt[slot] = i + 1;
      left++;
    }
    this.frozenKeys = changed;
    this.frozenSlots = slots;
    this.frozenTs = ts;
    this.frozenLeft = left;
    this.frozenActive = true;
    return { evicted, frozen: slots.length };
  }

  /** Before a change to `slot`: copies its state as of the frozen ts if still marked. */
  protected preserve(slot: number): void {
    const at = this.frozenAt[slot]!;
    if (at === 0) return;
    this.frozenCopies.set(at - 1, this.encode(slot, this.frozenTs));
    this.frozenAt[slot] = 0;
    this.frozenLeft--;
  }

  /** Before a change to every slot (rare: the sliding log's epoch move). */
  protected preserveAll(): void {
    const slots = this.frozenSlots;
    for (let i = 0; i < slots.length && this.frozenLeft > 0; i++) {
      if (slots[i]! >= 0) this.preserve(slots[i]!);
    }
  }

  /**
   * Frozen position `i`'s key and its state as of the frozen ts (data undefined: nothing live,
   * a delete), or null for a key evicted before the freeze (it is in `evicted`). Each position
   * is read once: a slot read here is unmarked, so a later change copies nothing.
   */
  frozenRecord(i: number): { key: string; data: Uint8Array | undefined } | null {
    if (!this.frozenActive || i >= this.frozenSlots.length) {
      throw new Error(`slot-table: frozen position ${i} read outside a deferred snapshot`);
    }
    const slot = this.frozenSlots[i]!;
    if (slot < 0) return null;
    const key = this.frozenKeys[i]!;
    if (this.frozenAt[slot] === i + 1) {
      this.frozenAt[slot] = 0;
      this.frozenLeft--;
      return { key, data: this.encode(slot, this.frozenTs) };
    }
    if (!this.frozenCopies.has(i)) {
      throw new Error(`slot-table: frozen position ${i} neither marked nor copied`);
    }
    const data = this.frozenCopies.get(i);
    this.frozenCopies.delete(i);
    return { key, data };
  }

  /** Ends the deferred snapshot (written or dropped): unmarks what is left, drops the copies. */
  releaseFrozen(): void {
    const slots = this.frozenSlots;
    for (let i = 0; i < slots.length && this.frozenLeft > 0; i++) {
      const slot = slots[i]!;
      if (slot >= 0 && this.frozenAt[slot] === i + 1) {
        this.frozenAt[slot] = 0;
        this.frozenLeft--;
      }
    }
    if (this.frozenLeft !== 0) throw new Error('slot-table: frozen marks left after release');
    this.frozenKeys = [];
    this.frozenSlots = [];
    this.frozenCopies.clear();
    this.frozenActive = false;
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
