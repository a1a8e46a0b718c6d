import { DrlError } from '../errors.js';
import { grown, SlotTable } from './slot-table.js';
import type { Decision, Usage } from './types.js';
import { ALGORITHM_CODES, type WindowStore } from './window-store.js';

/**
 * Sliding window counter (two fixed buckets, weighted): O(1) memory per key. Buckets are aligned
 * to multiples of windowMs since the epoch. At ts, with e = ts - start of the current bucket:
 *   held(ts) = curr + ceil(prev * (W - e) / W)
 * A grant adds its cost to curr. Error bound (docs/notes/limiter-engine.md): grants inside any
 * aligned bucket never exceed the limit, so any sliding window of W holds at most 2 x limit;
 * retryAfterMs may reach 2 x windowMs. When a key's window changes, its held estimate carries
 * over as the new current bucket (prev = 0), at the first grant under the new window.
 */
export class SlidingCounterStore extends SlotTable implements WindowStore {
  readonly algorithm = 'sliding-counter' as const;

  constructor() {
    // Columns of their own: the index rows hold only the key.
    super(0);
  }
  private win = new Uint32Array(0);
  private start = new Float64Array(0);
  private prev = new Float64Array(0);
  private curr = new Float64Array(0);

  protected resize(capacity: number, used: number): void {
    this.win = grown(this.win, capacity, used);
    this.start = grown(this.start, capacity, used);
    this.prev = grown(this.prev, capacity, used);
    this.curr = grown(this.curr, capacity, used);
  }

  decide(
    key: string,
    ts: number,
    cost: number,
    limit: number,
    windowMs: number,
    _burst: number,
    record: boolean,
  ): Decision {
    const slot = this.keys.get(key);
    const aligned = ts - (ts % windowMs);
    let start = aligned;
    let prev = 0;
    let curr = 0;
    if (slot !== undefined) {
      const w = this.win[slot]!;
      if (w === windowMs) {
        start = this.start[slot]!;
        prev = this.prev[slot]!;
        curr = this.curr[slot]!;
      } else {
        curr = heldAt(this.prev[slot]!, this.curr[slot]!, this.start[slot]!, w, ts);
      }
    }
    // Roll to ts's bucket.
    if (start !== aligned) {
      prev = aligned === start + windowMs ? curr : 0;
      curr = 0;
      start = aligned;
    }
    const held = heldAt(prev, curr, start, windowMs, ts);
    const allowed = cost <= limit && held + cost <= limit;
    if (allowed) {
      curr += cost;
      if (record) this.store(key, slot, windowMs, start, prev, curr);
    }
    const heldAfter = allowed ? held + cost : held;
    let retryAfterMs: number | null = allowed ? 0 : null;
    if (!allowed && cost <= limit)
      retryAfterMs = retryOf(prev, curr, start, windowMs, ts, limit - cost);
    return {
      allowed,
      limit,
      remaining: heldAfter < limit ? limit - heldAfter : 0,
      resetMs: resetOf(prev, curr, start, windowMs, ts),
      retryAfterMs,
    };
  }

  usage(key: string, ts: number, limit: number, windowMs: number): Usage {
    const d = this.decide(key, ts, limit + 1, limit, windowMs, 0, false);
    const slot = this.keys.get(key);
    const used =
      slot === undefined
        ? 0
        : heldAt(this.prev[slot]!, this.curr[slot]!, this.start[slot]!, this.win[slot]!, ts);
    return { used, limit, remaining: used < limit ? limit - used : 0, resetMs: d.resetMs };
  }

  sweepSlot(slot: number, ts: number): boolean {
    if (heldAt(this.prev[slot]!, this.curr[slot]!, this.start[slot]!, this.win[slot]!, ts) > 0) {
      return false;
    }
    if (this.frozenLeft !== 0) this.preserve(slot);
    this.releaseSlot(slot);
    return true;
  }

  encode(slot: number, ts: number): Uint8Array | undefined {
    if (heldAt(this.prev[slot]!, this.curr[slot]!, this.start[slot]!, this.win[slot]!, ts) === 0) {
      return undefined;
    }
    const bytes = new Uint8Array(29);
    const view = new DataView(bytes.buffer);
    view.setUint8(0, ALGORITHM_CODES['sliding-counter']);
    view.setUint32(1, this.win[slot]!);
    view.setFloat64(5, this.start[slot]!);
    view.setFloat64(13, this.prev[slot]!);
    view.setFloat64(21, this.curr[slot]!);
    return bytes;
  }

  load(key: string, data: Uint8Array, ts: number): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength !== 29 || view.getUint8(0) !== ALGORITHM_CODES['sliding-counter']) {
      throw new DrlError(
        'storage_corrupt',
        `bad sliding-counter window for ${JSON.stringify(key)}`,
      );
    }
    if (this.keys.has(key)) throw new DrlError('storage_corrupt', 'duplicate window record');
    const slot = this.allocSlot(key);
    this.win[slot] = view.getUint32(1);
    this.start[slot] = view.getFloat64(5);
    this.prev[slot] = view.getFloat64(13);
    this.curr[slot] = view.getFloat64(21);
    this.markDirty(key, slot);
    if (this.win[slot] === 0)
      throw new DrlError('storage_corrupt', 'sliding-counter window of 0 ms');
    this.sweepSlot(slot, ts);
  }

  private store(
    key: string,
    existing: number | undefined,
    windowMs: number,
    start: number,
    prev: number,
    curr: number,
  ): void {
    // A deferred snapshot still to read this key's state gets its copy first.
    if (existing !== undefined && this.frozenLeft !== 0) this.preserve(existing);
    const slot = existing ?? this.allocSlot(key);
    this.win[slot] = windowMs;
    this.start[slot] = start;
    this.prev[slot] = prev;
    this.curr[slot] = curr;
    this.markDirty(key, slot);
  }
}

/**
 * The weighted count at t. `start` is a multiple of windowMs; for t at or after it (always, as
 * command timestamps never go backwards) the bucket of t is found by subtraction: a float `%`
 * is a call into fmod for these 41-bit timestamps, and a denial evaluates this up to five times.
 */
export function heldAt(
  prev: number,
  curr: number,
  start: number,
  windowMs: number,
  t: number,
): number {
  const e = t - start;
  if (e < 0) return heldAtAligned(prev, curr, start, windowMs, t);
  if (e < windowMs) return prev === 0 ? curr : curr + Math.ceil((prev * (windowMs - e)) / windowMs);
  if (e < 2 * windowMs) {
    // Next bucket: curr has become prev.
    return curr === 0 ? 0 : Math.ceil((curr * (2 * windowMs - e)) / windowMs);
  }
  return 0;
}

/** The general form (t's bucket by `%`), for a state whose start lies after t. */
function heldAtAligned(
  prev: number,
  curr: number,
  start: number,
  windowMs: number,
  t: number,
): number {
  const aligned = t - (t % windowMs);
  let p = prev;
  let c = curr;
  if (aligned !== start) {
    p = aligned === start + windowMs ? curr : 0;
    c = 0;
  }
  const elapsed = t - aligned;
  return p === 0 ? c : c + Math.ceil((p * (windowMs - elapsed)) / windowMs);
}

/**
 * The first d >= 1 with heldAt(ts + d) <= room. held only falls as time passes (no grants), so
 * the answer is where it first dips under: solved in closed form per bucket, confirmed with
 * heldAt itself (floating-point ceil), else found by binary search.
 */
function retryOf(
  prev: number,
  curr: number,
  start: number,
  windowMs: number,
  ts: number,
  room: number,
): number {
  // No closure here: allocating one per denial costs more than the arithmetic.
  const elapsed = ts - start;
  let guess: number;
  if (prev > 0 && curr <= room) {
    // Within this bucket: prev * (W - e) / W <= room - curr.
    const e = Math.ceil(windowMs - ((room - curr) * windowMs) / prev);
    guess = Math.max(1, e - elapsed);
  } else guess = windowMs - elapsed;
  if (guess >= windowMs - elapsed) {
    // In the next bucket, where curr has become prev: curr * (W - e) / W <= room.
    const e = curr === 0 ? 0 : Math.max(0, Math.ceil(windowMs - (room * windowMs) / curr));
    guess = windowMs - elapsed + e;
  }
  for (let d = guess; d >= 1 && d <= 2 * windowMs && d < guess + 3; d++) {
    if (
      heldAt(prev, curr, start, windowMs, ts + d) <= room &&
      (d === 1 || heldAt(prev, curr, start, windowMs, ts + d - 1) > room)
    ) {
      return d;
    }
  }
  let lo = 1;
  let hi = 2 * windowMs;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (heldAt(prev, curr, start, windowMs, ts + mid) <= room) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** ms from ts until held reaches 0 with no further grants. */
function resetOf(prev: number, curr: number, start: number, windowMs: number, ts: number): number {
  if (curr > 0) return start + 2 * windowMs - ts;
  if (prev > 0) return start + windowMs - ts;
  return 0;
}
