/**
 * key -> slot for the window stores, in typed arrays instead of a `Map<string, number>`.
 *
 * Why (measured, workload (b): 1M keys round-robin, a fresh key string per call): a Map lookup
 * with a fresh string hashes it in the runtime, then reads the bucket, the entry and the stored
 * key string — three cache misses on a 1M-entry Map — and the Map keeps every key string alive
 * (1M strings promoted through the young generation on the first pass). Here a lookup hashes the
 * string in JS, reads one 8-byte cell of an open-addressed table (linear probing, load <= 1/2),
 * and compares the key against the slot's row, where the key is stored inline as Latin-1 bytes
 * next to the store's own record: the row the store reads next anyway. About 3x faster per
 * lookup in isolation, and no key strings are kept for short keys.
 *
 * Row layout (Uint32 words, `stride` per slot): hash (0 = free slot), length (chars; inline keys)
 * or LONG + length (the string kept in a side array: keys over INLINE_CHARS_MAX chars or with a
 * char above U+00FF), then INLINE_CHARS_MAX Latin-1 bytes, 4 per word; then the store's words.
 *
 * Rows live in chunks: the first holds `firstChunkSlots` slots and each later one as many as all
 * before it, so the total doubles as before but growing never copies a row (at 1M keys the old
 * doubling buffer copied 32 MB into fresh pages at its last growth, ~10% of the first pass of
 * (b)), and a slot's chunk never changes: a store may keep the chunk it read a slot's row from.
 * Chunk k > 0 starts at slot firstChunkSlots << (k - 1), so a slot's chunk is found from its
 * highest bit (clz32), with no table walk.
 *
 * The hash is FNV-1a over UTF-16 units with a per-index random seed, finished with murmur3's
 * mixer; the seed makes colliding keys hard to pick from outside. It affects only where keys sit
 * in the cell table: iteration is in slot order, so nothing observable depends on it.
 */

/** Words of a row that hold the key; a store's record starts at this word. */
export const KEY_WORDS = 8;
const K_HASH = 0;
const K_LEN = 1;
const K_CHARS = 2;
/** Chars stored inline (6 words of 4 Latin-1 bytes). */
const INLINE_CHARS_MAX = (KEY_WORDS - K_CHARS) * 4;
/** Length word of a key kept in the side array (keys are <= 512 bytes, far below this). */
const LONG = 0x10000;
const CELLS_MIN = 1024;
/** Slots in the first row chunk (each later chunk holds as many as all the chunks before it). */
export const FIRST_CHUNK_SLOTS = 1024;

export class KeyIndex {
  /** Chunk k: `stride` words per slot (the key, KEY_WORDS, then the store's record). */
  readonly rowChunks: Uint32Array[] = [];
  readonly stride: number;
  /** Slots the chunks hold together. */
  capacity = 0;
  /** Set by a successful `find`: the chunk holding the slot's row and the row's first word. */
  foundRows: Uint32Array = new Uint32Array(0);
  foundAt = 0;
  /** log2 of the first chunk's slot count: chunk of slot s = 32 - clz32(s >>> shift). */
  private readonly shift: number;
  /** First slot of each chunk. */
  private readonly chunkStart: number[] = [];
  /** One past the highest slot ever used: iteration and the sweep stop here. */
  end = 0;
  private count = 0;
  /** Pairs (hash, slot); hash 0 marks an empty cell. */
  private cells = new Int32Array(CELLS_MIN * 2);
  private mask = CELLS_MIN - 1;
  private readonly seed = (Math.random() * 0x100000000) | 0;
  private readonly longKeys: Array<string | undefined> = [];
  /** Packed Latin-1 words of the key last looked up (valid when it was inline). */
  private readonly packed = new Uint32Array(KEY_WORDS - K_CHARS);
  /** Where the last failed `find` stopped: `insert` puts that key there. */
  private missKey: string | undefined;
  private missCell = 0;
  private missHash = 0;
  private missInline = false;

  /** `firstChunkSlots`: a power of two (small in tests, to cross many chunk boundaries). */
  constructor(recordWords: number, firstChunkSlots = FIRST_CHUNK_SLOTS) {
    this.stride = KEY_WORDS + recordWords;
    this.shift = 31 - Math.clz32(firstChunkSlots);
    if (firstChunkSlots !== 1 << this.shift) throw new Error('key-index: chunk size not 2^n');
  }

  get size(): number {
    return this.count;
  }

  /** Adds the next row chunk (nothing is copied); returns the new capacity in slots. */
  grow(): number {
    const slots = this.capacity === 0 ? 1 << this.shift : this.capacity;
    this.chunkStart.push(this.capacity);
    this.rowChunks.push(new Uint32Array(slots * this.stride));
    this.capacity += slots;
    return this.capacity;
  }

  /** The chunk holding `slot`'s row (stable: chunks are never replaced). */
  rowsOf(slot: number): Uint32Array {
    return this.rowChunks[32 - Math.clz32(slot >>> this.shift)]!;
  }

  /** The first word of `slot`'s row in its chunk. */
  rowAt(slot: number): number {
    return (slot - this.chunkStart[32 - Math.clz32(slot >>> this.shift)]!) * this.stride;
  }

  /** The slot of `key`, or -1 (then `insert(key, slot)` may follow at once). */
  find(key: string): number {
    const len = key.length;
    const packed = this.packed;
    let h = this.seed;
    let inline = len <= INLINE_CHARS_MAX;
    if (inline) {
      let w = 0;
      for (let i = 0; i < len; i++) {
        const c = key.charCodeAt(i);
        h = Math.imul(h ^ c, 0x01000193);
        if (c > 0xff) inline = false;
        w |= c << ((i & 3) << 3);
        if ((i & 3) === 3) {
          packed[i >> 2] = w;
          w = 0;
        }
      }
      if ((len & 3) !== 0) packed[len >> 2] = w;
    } else {
      for (let i = 0; i < len; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    }
    h = mix(h ^ len);
    const cells = this.cells;
    const mask = this.mask;
    let c = h & mask;
    for (;;) {
      const ch = cells[c * 2]!;
      if (ch === 0) break;
      if (ch === h) {
        const slot = cells[c * 2 + 1]!;
        const k = 32 - Math.clz32(slot >>> this.shift);
        const rows = this.rowChunks[k]!;
        const r = (slot - this.chunkStart[k]!) * this.stride;
        if (
          inline ? matchesInline(rows, r, this.packed, len) : this.matchesLong(rows, r, slot, key)
        ) {
          this.foundRows = rows;
          this.foundAt = r;
          return slot;
        }
      }
      c = (c + 1) & mask;
    }
    this.missKey = key;
    this.missCell = c;
    this.missHash = h;
    this.missInline = inline;
    return -1;
  }

  get(key: string): number | undefined {
    const slot = this.find(key);
    return slot < 0 ? undefined : slot;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /** Adds `key` at `slot` (a free row): right after `find(key)` returned -1. */
  insert(key: string, slot: number): void {
    if (key !== this.missKey) throw new Error('key-index: insert without a failed find');
    this.missKey = undefined;
    if (slot >= this.capacity) throw new Error('key-index: slot past the row chunks');
    const rows = this.rowsOf(slot);
    const r = this.rowAt(slot);
    if (rows[r + K_HASH] !== 0) throw new Error('key-index: slot in use');
    rows[r + K_HASH] = this.missHash;
    if (this.missInline) {
      rows[r + K_LEN] = key.length;
      const words = (key.length + 3) >> 2;
      for (let i = 0; i < words; i++) rows[r + K_CHARS + i] = this.packed[i]!;
    } else {
      rows[r + K_LEN] = LONG + key.length;
      this.longKeys[slot] = key;
    }
    this.cells[this.missCell * 2] = this.missHash;
    this.cells[this.missCell * 2 + 1] = slot;
    this.count++;
    if (slot >= this.end) this.end = slot + 1;
    if (this.count * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
  }

  isLive(slot: number): boolean {
    return this.rowsOf(slot)[this.rowAt(slot) + K_HASH] !== 0;
  }

  /** Frees the slot's row and its cell (backward-shift deletion: no tombstones). */
  remove(slot: number): void {
    const rows = this.rowsOf(slot);
    const r = this.rowAt(slot);
    const h = rows[r + K_HASH]! | 0;
    if (h === 0) throw new Error('key-index: removing a free slot');
    const cells = this.cells;
    const mask = this.mask;
    let i = h & mask;
    while (cells[i * 2] !== h || cells[i * 2 + 1] !== slot) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      cells[i * 2] = 0;
      let moved = false;
      for (;;) {
        j = (j + 1) & mask;
        const hj = cells[j * 2]!;
        if (hj === 0) break;
        const home = hj & mask;
        // The cell at j may fill the hole at i unless its home lies cyclically in (i, j].
        const stays = i <= j ? i < home && home <= j : i < home || home <= j;
        if (stays) continue;
        cells[i * 2] = hj;
        cells[i * 2 + 1] = cells[j * 2 + 1]!;
        i = j;
        moved = true;
        break;
      }
      if (!moved) break;
    }
    if (rows[r + K_LEN]! >= LONG) this.longKeys[slot] = undefined;
    rows.fill(0, r, r + KEY_WORDS);
    this.count--;
  }

  /** The key stored at a live slot. */
  keyOf(slot: number): string {
    const rows = this.rowsOf(slot);
    const r = this.rowAt(slot);
    const len = rows[r + K_LEN]!;
    if (len >= LONG) return this.longKeys[slot]!;
    const codes = new Array<number>(len);
    for (let i = 0; i < len; i++)
      codes[i] = (rows[r + K_CHARS + (i >> 2)]! >>> ((i & 3) << 3)) & 0xff;
    return String.fromCharCode(...codes);
  }

  /** Live slots in slot order. */
  *values(): IterableIterator<number> {
    for (let slot = 0; slot < this.end; slot++) if (this.isLive(slot)) yield slot;
  }

  *keys(): IterableIterator<string> {
    for (let slot = 0; slot < this.end; slot++) if (this.isLive(slot)) yield this.keyOf(slot);
  }

  /** [key, slot] of live slots in slot order. */
  *entries(): IterableIterator<[string, number]> {
    for (let slot = 0; slot < this.end; slot++) {
      if (this.isLive(slot)) yield [this.keyOf(slot), slot];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries();
  }

  private matchesLong(rows: Uint32Array, r: number, slot: number, key: string): boolean {
    return rows[r + K_LEN] === LONG + key.length && this.longKeys[slot] === key;
  }

  private rehash(cellCount: number): void {
    const old = this.cells;
    const cells = new Int32Array(cellCount * 2);
    const mask = cellCount - 1;
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i]!;
      if (h === 0) continue;
      let c = h & mask;
      while (cells[c * 2] !== 0) c = (c + 1) & mask;
      cells[c * 2] = h;
      cells[c * 2 + 1] = old[i + 1]!;
    }
    this.cells = cells;
    this.mask = mask;
    // A pending insert's cell was in the old table.
    this.missKey = undefined;
  }
}

/** Whether the inline key at row word `r` is the `len` chars packed in `packed`. */
function matchesInline(rows: Uint32Array, r: number, packed: Uint32Array, len: number): boolean {
  if (rows[r + K_LEN] !== len) return false;
  for (let i = 0, words = (len + 3) >> 2; i < words; i++) {
    if (rows[r + K_CHARS + i] !== packed[i]) return false;
  }
  return true;
}

/** murmur3's 32-bit finaliser; never 0 (0 marks an empty cell). */
function mix(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}
