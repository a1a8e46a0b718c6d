/**
 * Storage for sliding-log entries (ts offset, cost: two interleaved Uint32s) split into fixed-size
 * chunks, so no single buffer ever doubles (a doubling buffer can waste half of itself). A key's
 * entries live in one segment of a size class; small segments are carved from shared chunks and
 * recycled through per-class free lists, big ones get a chunk of their own and return it whole.
 */

export const CHUNK_ENTRIES = 1 << 16;

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
  /** Where the last `alloc` put the segment. */
  outChunk = 0;
  outPos = 0;
  /** Entries held by live small segments, and by free-listed ones (garbage). */
  usedSmall = 0;
  freeSmall = 0;
  private bumpChunk = -1;
  private bumpPos = CHUNK_ENTRIES;
  private readonly freeChunkIds: number[] = [];
  private readonly freeLists: number[][] = CLASS_CAPACITIES.map(() => []);

  alloc(cls: number): void {
    const cap = CLASS_CAPACITIES[cls]!;
    if (cap > CHUNK_ENTRIES) {
      this.outChunk = this.newChunk(cap);
      this.outPos = 0;
      return;
    }
    this.usedSmall += cap;
    const list = this.freeLists[cls]!;
    if (list.length > 0) {
      this.outPos = list.pop()!;
      this.outChunk = list.pop()!;
      this.freeSmall -= cap;
      return;
    }
    if (this.bumpPos + cap > CHUNK_ENTRIES) {
      this.bumpChunk = this.newChunk(CHUNK_ENTRIES);
      this.bumpPos = 0;
    }
    this.outChunk = this.bumpChunk;
    this.outPos = this.bumpPos;
    this.bumpPos += cap;
  }

  release(cls: number, chunk: number, pos: number): void {
    const cap = CLASS_CAPACITIES[cls]!;
    if (cap > CHUNK_ENTRIES) {
      this.chunks[chunk] = NO_CHUNK;
      this.freeChunkIds.push(chunk);
      return;
    }
    this.usedSmall -= cap;
    this.freeSmall += cap;
    this.freeLists[cls]!.push(chunk, pos);
  }

  /** Free-listed space is worth reclaiming once it is a fifth of what is in use. */
  wantsCompaction(): boolean {
    return this.freeSmall > CHUNK_ENTRIES && this.freeSmall * 4 > this.usedSmall;
  }

  private newChunk(entries: number): number {
    const id = this.freeChunkIds.pop() ?? this.chunks.length;
    this.chunks[id] = new Uint32Array(entries * 2);
    return id;
  }
}
