/**
 * Word storage for sliding-log segments, split into fixed-size chunks so no single buffer ever
 * doubles (a doubling buffer can waste half of itself). A key's entries live in one segment of a
 * size class (counted in Uint32 words; the store decides how many words an entry takes), named by
 * a handle chunk * 2^16 + position. Small segments are carved from shared chunks and recycled
 * through per-class free lists threaded through the free segments themselves (no side arrays); big
 * ones get a chunk of their own and return it whole.
 */

/** 2^16 words: a handle is chunk << 16 | position (read back with >>> 16 and & 0xffff). */
export const CHUNK_WORDS = 1 << 16;
const NONE = 0xffffffff;
/** Classes are exact up to this many words (most keys hold few entries), then about x1.25. */
const EXACT_WORDS_MAX = 16;

/** Segment capacities in words. */
export const CLASS_WORDS: readonly number[] = (() => {
  const caps: number[] = [];
  for (let cap = 1; cap < 2 ** 32; cap = cap < EXACT_WORDS_MAX ? cap + 1 : Math.ceil(cap * 1.25)) {
    caps.push(cap);
  }
  return caps;
})();

/** The smallest class holding `words` words. */
export function classFor(words: number): number {
  if (words <= EXACT_WORDS_MAX) return words <= 1 ? 0 : words - 1;
  let cls = EXACT_WORDS_MAX;
  while ((CLASS_WORDS[cls] ?? Number.POSITIVE_INFINITY) < words) cls++;
  return cls;
}

const NO_CHUNK = new Uint32Array(0);

export class EntrySlab {
  /** Per chunk: the words of the segments carved from it. */
  readonly chunks: Uint32Array[] = [];
  /** Words held by live small segments, and by free-listed ones (garbage). */
  usedSmall = 0;
  freeSmall = 0;
  private bumpChunk = -1;
  private bumpPos = CHUNK_WORDS;
  private readonly freeChunkIds: number[] = [];
  private readonly freeHeads: number[] = CLASS_WORDS.map(() => NONE);

  /** Allocates a segment of class `cls`; returns its handle. */
  alloc(cls: number): number {
    const cap = CLASS_WORDS[cls]!;
    if (cap > CHUNK_WORDS) return this.newChunk(cap) * CHUNK_WORDS;
    this.usedSmall += cap;
    const head = this.freeHeads[cls]!;
    if (head !== NONE) {
      // The next free segment's handle is kept in the free segment's first word.
      this.freeHeads[cls] = this.chunks[head >>> 16]![head & 0xffff]!;
      this.freeSmall -= cap;
      return head;
    }
    if (this.bumpPos + cap > CHUNK_WORDS) {
      this.bumpChunk = this.newChunk(CHUNK_WORDS);
      this.bumpPos = 0;
    }
    const handle = this.bumpChunk * CHUNK_WORDS + this.bumpPos;
    this.bumpPos += cap;
    return handle;
  }

  release(cls: number, handle: number): void {
    const cap = CLASS_WORDS[cls]!;
    const chunk = handle >>> 16;
    if (cap > CHUNK_WORDS) {
      this.chunks[chunk] = NO_CHUNK;
      this.freeChunkIds.push(chunk);
      return;
    }
    this.usedSmall -= cap;
    this.freeSmall += cap;
    this.chunks[chunk]![handle & 0xffff] = this.freeHeads[cls]!;
    this.freeHeads[cls] = handle;
  }

  /** Free-listed space is worth reclaiming once it is a quarter of what is in use. */
  wantsCompaction(): boolean {
    return this.freeSmall > CHUNK_WORDS && this.freeSmall * 4 > this.usedSmall;
  }

  private newChunk(words: number): number {
    const id = this.freeChunkIds.pop() ?? this.chunks.length;
    if (id >= CHUNK_WORDS) throw new Error('sliding-log: out of entry chunks');
    this.chunks[id] = new Uint32Array(words);
    return id;
  }
}
