import { DrlError } from '../errors.js';
import { grown, SlotTable } from './slot-table.js';
import type { Decision, Usage } from './types.js';
import { ALGORITHM_CODES, type WindowStore } from './window-store.js';

/**
 * Token bucket as GCRA. Meaning of the parameters: tokens refill at `limit` per `windowMs`
 * (one every windowMs / limit ms); the bucket holds `limit + burst` tokens (the capacity, which
 * is what Decision.limit reports). A request of `cost` takes cost tokens or is denied.
 *
 * State per key: the theoretical arrival time TAT = tatMs + tatFrac / limit (exact integers), and
 * the (limit, windowMs, burst) it was computed under. Time is handled in "scaled" units of
 * 1 / limit ms, in which one token is windowMs units; d = TAT - ts in scaled units is what the
 * bucket holds: ceil(d / windowMs) tokens. Validation keeps (limit + burst) * windowMs <= 2^52,
 * so every scaled quantity is an exact double. When a key's parameters change, the tokens it holds
 * (rounded up, capped at the new capacity) carry over, at its first grant under the new ones.
 */
export class TokenBucketStore extends SlotTable implements WindowStore {
  readonly algorithm = 'token-bucket' as const;

  constructor() {
    // Columns of their own: the index rows hold only the key.
    super(0);
  }
  private lim = new Uint32Array(0);
  private win = new Uint32Array(0);
  private burst = new Uint32Array(0);
  private tatMs = new Float64Array(0);
  private tatFrac = new Float64Array(0);

  protected resize(capacity: number, used: number): void {
    this.lim = grown(this.lim, capacity, used);
    this.win = grown(this.win, capacity, used);
    this.burst = grown(this.burst, capacity, used);
    this.tatMs = grown(this.tatMs, capacity, used);
    this.tatFrac = grown(this.tatFrac, capacity, used);
  }

  /** TAT - ts in scaled units of the given parameters (<= 0: the bucket is full). */
  private backlog(
    slot: number,
    ts: number,
    limit: number,
    windowMs: number,
    burst: number,
  ): number {
    const l0 = this.lim[slot]!;
    const d = (this.tatMs[slot]! - ts) * l0 + this.tatFrac[slot]!;
    if (l0 === limit && this.win[slot] === windowMs && this.burst[slot] === burst) return d;
    if (d <= 0) return 0;
    const held = Math.min(Math.ceil(d / this.win[slot]!), limit + burst);
    return held * windowMs;
  }

  decide(
    key: string,
    ts: number,
    cost: number,
    limit: number,
    windowMs: number,
    burst: number,
    record: boolean,
  ): Decision {
    const slot = this.keys.get(key);
    const capacity = limit + burst;
    const d = slot === undefined ? 0 : Math.max(0, this.backlog(slot, ts, limit, windowMs, burst));
    const allowed = cost <= capacity && d + cost * windowMs <= capacity * windowMs;
    const after = allowed ? d + cost * windowMs : d;
    if (allowed && record) {
      // A deferred snapshot still to read this key's state gets its copy first.
      if (slot !== undefined && this.frozenLeft !== 0) this.preserve(slot);
      const target = slot ?? this.allocSlot(key);
      const whole = Math.floor(after / limit);
      this.tatMs[target] = ts + whole;
      this.tatFrac[target] = after - whole * limit;
      this.lim[target] = limit;
      this.win[target] = windowMs;
      this.burst[target] = burst;
      this.markDirty(key, target);
    }
    const used = Math.ceil(after / windowMs);
    let retryAfterMs: number | null = allowed ? 0 : null;
    if (!allowed && cost <= capacity) {
      retryAfterMs = Math.max(1, Math.ceil((d + (cost - capacity) * windowMs) / limit));
    }
    return {
      allowed,
      limit: capacity,
      remaining: used < capacity ? capacity - used : 0,
      resetMs: after > 0 ? Math.ceil(after / limit) : 0,
      retryAfterMs,
    };
  }

  usage(key: string, ts: number, limit: number, windowMs: number, burst: number): Usage {
    const capacity = limit + burst;
    const slot = this.keys.get(key);
    const d = slot === undefined ? 0 : Math.max(0, this.backlog(slot, ts, limit, windowMs, burst));
    const used = Math.ceil(d / windowMs);
    return {
      used,
      limit: capacity,
      remaining: used < capacity ? capacity - used : 0,
      resetMs: d > 0 ? Math.ceil(d / limit) : 0,
    };
  }

  sweepSlot(slot: number, ts: number): boolean {
    if ((this.tatMs[slot]! - ts) * this.lim[slot]! + this.tatFrac[slot]! > 0) return false;
    if (this.frozenLeft !== 0) this.preserve(slot);
    this.releaseSlot(slot);
    return true;
  }

  encode(slot: number, ts: number): Uint8Array | undefined {
    if ((this.tatMs[slot]! - ts) * this.lim[slot]! + this.tatFrac[slot]! <= 0) return undefined;
    const bytes = new Uint8Array(29);
    const view = new DataView(bytes.buffer);
    view.setUint8(0, ALGORITHM_CODES['token-bucket']);
    view.setUint32(1, this.lim[slot]!);
    view.setUint32(5, this.win[slot]!);
    view.setUint32(9, this.burst[slot]!);
    view.setFloat64(13, this.tatMs[slot]!);
    view.setFloat64(21, this.tatFrac[slot]!);
    return bytes;
  }

  load(key: string, data: Uint8Array, ts: number): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength !== 29 || view.getUint8(0) !== ALGORITHM_CODES['token-bucket']) {
      throw new DrlError('storage_corrupt', `bad token-bucket window for ${JSON.stringify(key)}`);
    }
    if (this.keys.has(key)) throw new DrlError('storage_corrupt', 'duplicate window record');
    const slot = this.allocSlot(key);
    this.lim[slot] = view.getUint32(1);
    this.win[slot] = view.getUint32(5);
    this.burst[slot] = view.getUint32(9);
    this.tatMs[slot] = view.getFloat64(13);
    this.tatFrac[slot] = view.getFloat64(21);
    this.markDirty(key, slot);
    if (this.lim[slot] === 0 || this.win[slot] === 0) {
      throw new DrlError('storage_corrupt', 'token-bucket window with a zero limit or window');
    }
    this.sweepSlot(slot, ts);
  }
}
