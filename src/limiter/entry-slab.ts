/**
 * Storage for sliding-log entries (ts offset, cost: two interleaved Uint32s) split into fixed-size
 * chunks, so no single buffer ever doubles (a doubling buffer can waste half of itself). A key's
 * entries live in one segment of a size class, named by a handle chunk * 2^16 + position. Small
 * segments are carved from shared chunks and recycled through per-class free lists threaded
 * through the free segments themselves (no side arrays); big ones get a chunk of their own and
 * return it whole.
 */

/** 2^16 entries: a handle is chunk << 16 | position (read back with >>> 16 and & 0xffff). */
export const CHUNK_ENTRIES = 1 << 16;
const NONE = 0xffffffff;

/** Segment capacities: exact up to 8 (most keys hold few entries), then about x1.25. */
export const CLASS_CAPACITIES: readonly number[] = (() => {
  const caps: number[] = [];
  for (let cap = 1; cap < 2 ** 31; cap = cap < 8 ? cap + 1 : Math.ceil(cap * 1.25)) caps.push(cap);
  return caps;
})();

export function classFor(entries: number): number {
  if (entries <= 8) return entries <= 1 ? 0 : entries - 1;
  let cls = 8;
  while ((CLASS_CAPACITIES[cls] ?? Number.POSITIVE_INFINITY) < entries) cls++;
  return cls;
}

const NO_CHUNK = new Uint32Array(0);

export class EntrySlab {
  /** Per chunk: entry i at [2i] (ts offset) and [2i + 1] (cost). */
  readonly chunks: Uint32Array[] = [];
  /** Entries held by live small segments, and by free-listed ones (garbage). */
  usedSmall = 0;
  freeSmall = 0;
  private bumpChunk = -1;
  private bumpPos = CHUNK_ENTRIES;
  private readonly freeChunkIds: number[] = [];
  private readonly freeHeads: number[] = CLASS_CAPACITIES.map(() => NONE);

  /** Allocates a segment of class `cls`; returns its handle. */
  alloc(cls: number): number {
    const cap = CLASS_CAPACITIES[cls]!;
    if (cap > CHUNK_ENTRIES) return this.newChunk(cap) * CHUNK_ENTRIES;
    this.usedSmall += cap;
    const head = this.freeHeads[cls]!;
    if (head !== NONE) {
      // The next free segment's handle is kept in the free segment's first word.
      this.freeHeads[cls] =
        this.chunks[Math.floor(head / CHUNK_ENTRIES)]![(head % CHUNK_ENTRIES) * 2]!;
      this.freeSmall -= cap;
      return head;
    }
    if (this.bumpPos + cap > CHUNK_ENTRIES) {
      this.bumpChunk = this.newChunk(CHUNK_ENTRIES);
      this.bumpPos = 0;
    }
    const handle = this.bumpChunk * CHUNK_ENTRIES + this.bumpPos;
    this.bumpPos += cap;
    return handle;
  }

  release(cls: number, handle: number): void {
    const cap = CLASS_CAPACITIES[cls]!;
    const chunk = handle >>> 16;
    if (cap > CHUNK_ENTRIES) {
      this.chunks[chunk] = NO_CHUNK;
      this.freeChunkIds.push(chunk);
      return;
    }
    this.usedSmall -= cap;
    this.freeSmall += cap;
    this.chunks[chunk]![(handle & 0xffff) * 2] = this.freeHeads[cls]!;
    this.freeHeads[cls] = handle;
  }

  /** Free-listed space is worth reclaiming once it is a quarter of what is in use. */
  wantsCompaction(): boolean {
    return this.freeSmall > CHUNK_ENTRIES && this.freeSmall * 4 > this.usedSmall;
  }

  private newChunk(entries: number): number {
    const id = this.freeChunkIds.pop() ?? this.chunks.length;
    if (id >= CHUNK_ENTRIES) throw new Error('sliding-log: out of entry chunks');
    this.chunks[id] = new Uint32Array(entries * 2);
    return id;
  }
}
