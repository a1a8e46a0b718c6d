import { DrlError } from '../errors.js';
import { WINDOW_MS_MAX } from './bounds.js';
import { CLASS_WORDS, classFor, EntrySlab } from './entry-slab.js';
import { KEY_WORDS } from './key-index.js';
import { encodeGrants, forEachLogEntry, uniformWriter } from './sliding-log-record.js';
import { SlotTable } from './slot-table.js';
import type { Decision, Usage } from './types.js';
import type { WindowStore } from './window-store.js';

/**
 * Exact sliding window log. Each grant is an entry (ts, cost, window in force when granted);
 * equal timestamps with the same window merge into one entry. At ts under window W an entry
 * counts iff ts - W < ts' and ts < ts' + W' (W' its own window): a window that grows later does
 * not bring back grants expired under theirs. An entry with ts' + W' <= ts can never count again
 * (ts never decreases) and is dropped.
 *
 * Per key, one 32-byte record (8 Uint32s) right after the key in the key index's 64-byte row, so
 * the lookup's key compare and the decision read one cache line: base ts
 * (ms after the store's epoch), running cost sum, entry segment handle, ring start, length, size
 * class and entry width, while every entry shares one window that window ("uniform"), and the
 * newest entry's ts. Entries live in an EntrySlab as Uint32 ts offsets from the base; a key whose
 * entries all cost 1 ("unit", the common case) stores nothing else (4 bytes per entry), others
 * store a Uint32 cost after each offset (8 bytes). A key's first segment holds min(limit / cost,
 * INITIAL_ENTRIES_MAX) entries, so keys filling up in lockstep never relocate while under a small
 * limit; past it segments grow by x1.5. The sum fits 32 bits: in a
 * uniform key every stored entry counted when the newest was granted, so it is <= LIMIT_MAX.
 * The epoch trails ts by WINDOW_MS_MAX and moves (all keys rebased, O(keys)) every ~18 days. Keys whose entries have
 * different windows ("mixed", rare: only after a rule's or override's window changed) keep the
 * per-entry windows in a side Map and take a slower path.
 */

const MIXED = 0;
const OFFSET_MAX = 0xffffffff;
/** Words of the record, kept in the key index's rows right after the key. */
const RECORD_WORDS = 8;
/** Record layout: the slot's row (64 bytes: key, then record) at `keys.rowAt(slot)` + field. */
const U_BASE = KEY_WORDS;
const U_SUM = KEY_WORDS + 1;
const U_SEG = KEY_WORDS + 2;
const U_START = KEY_WORDS + 3;
const U_LEN = KEY_WORDS + 4;
/** Size class << 1 | costed (entries 2 words wide: offset, cost) or unit (1 word: offset). */
const U_CLS = KEY_WORDS + 5;
const U_WIN = KEY_WORDS + 6;
/** ts of the newest entry, after the base: the eviction sweep reads only the record. */
const U_NEWEST = KEY_WORDS + 7;
/** A new key's segment holds up to this many entries (32 bytes unit, 64 costed). */
const INITIAL_ENTRIES_MAX = 8;
/** Read once: under some loaders an imported binding is a getter call per access. */
const WORDS = CLASS_WORDS;

/** Entries a segment of the packed class/width `cw` holds. */
/** A grant's decision: the window's full length until the grant itself expires. */
function granted(limit: number, remaining: number, windowMs: number): Decision {
  return { allowed: true, limit, remaining, resetMs: windowMs, retryAfterMs: 0 };
}

function capacityOf(cw: number): number {
  return (cw & 1) === 0 ? WORDS[cw >>> 1]! : WORDS[cw >>> 1]! >>> 1;
}

/** Entries a new key's segment gets room for: as many grants of `cost` as the limit admits. */
function initialEntries(limit: number, cost: number): number {
  return Math.max(1, Math.min(INITIAL_ENTRIES_MAX, Math.floor(limit / cost)));
}

interface Entries {
  ts: number[];
  cost: number[];
  win: number[];
}

export class SlidingLogStore extends SlotTable implements WindowStore {
  readonly algorithm = 'sliding-log' as const;
  private slab = new EntrySlab();
  /** Bases are stored relative to this (set at the first entry). */
  private epoch = -1;
  private readonly mixedWindows = new Map<number, number[]>();

  constructor() {
    super(RECORD_WORDS);
  }

  protected resize(): void {
    // The record lives in the key index's rows, which the index grew itself.
  }

  /** The chunk array holding the slot's segment, and the segment's first entry index. */
  private chunkOf(slot: number): Uint32Array {
    return this.slab.chunks[this.field(slot, U_SEG) >>> 16]!;
  }

  private posOf(slot: number): number {
    return this.field(slot, U_SEG) & 0xffff;
  }

  private baseOf(slot: number): number {
    return this.epoch + this.field(slot, U_BASE);
  }

  /** Word `field` of the slot's row (off the hot path, which keeps the row's chunk at hand). */
  private field(slot: number, field: number): number {
    return this.keys.rowsOf(slot)[this.keys.rowAt(slot) + field]!;
  }

  private setField(slot: number, field: number, value: number): void {
    this.keys.rowsOf(slot)[this.keys.rowAt(slot) + field] = value;
  }

  /** Stores an absolute base, moving the epoch first if it is out of a Uint32's reach. */
  private setBase(slot: number, base: number): void {
    if (this.epoch < 0) this.epoch = Math.max(0, base - WINDOW_MS_MAX);
    if (base - this.epoch > OFFSET_MAX) this.moveEpoch(base);
    this.setField(slot, U_BASE, base - this.epoch);
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
    const slot = this.keys.find(key);
    if (slot < 0) {
      if (cost > limit) {
        return { allowed: false, limit, remaining: limit, resetMs: 0, retryAfterMs: null };
      }
      if (record) {
        const created = this.createSlot(key, cost, initialEntries(limit, cost));
        this.append(created, ts, cost, windowMs);
        this.markDirty(key, created);
      }
      return granted(limit, limit - cost, windowMs);
    }
    // A deferred snapshot still to read this key's state gets its copy before any change.
    if (record && this.frozenLeft !== 0) this.preserve(slot);
    // The lookup left the slot's row at hand: no second chunk/offset computation.
    const u32 = this.keys.foundRows;
    const u = this.keys.foundAt;
    const shared = u32[u + U_WIN]!;
    if (shared === MIXED) {
      if (record) this.dropExpiredMixed(slot, ts);
      return this.decideMixed(key, slot, ts, cost, limit, windowMs, record);
    }
    const seg = u32[u + U_SEG]!;
    const entries = this.slab.chunks[seg >>> 16]!;
    const pos = seg & 0xffff;
    const cw = u32[u + U_CLS]!;
    // Entry i of the ring is at word pos + i * width; a unit key's costs are all 1.
    const width = (cw & 1) + 1;
    const cap = capacityOf(cw);
    const base = this.epoch + u32[u + U_BASE]!;
    let n = u32[u + U_LEN]!;
    let p = u32[u + U_START]!;
    let held = u32[u + U_SUM]!;
    // Entry offsets are >= 0 (the base is at or before the oldest entry), so a cutoff below the
    // base has expired nothing and the segment is not read at all: on a key granted again within
    // its window (workload (b)) the decision then touches only the key's row.
    const expired = ts - shared - base;
    if (record && n > 0 && expired >= 0 && entries[pos + p * width]! <= expired) {
      // Drop what can never count again (inline dropExpired: this is the hot path).
      do {
        held -= width === 1 ? 1 : entries[pos + p * 2 + 1]!;
        n--;
        p = p + 1 === cap ? 0 : p + 1;
      } while (n > 0 && entries[pos + p * width]! <= expired);
      if (n === 0) p = 0;
      u32[u + U_LEN] = n;
      u32[u + U_START] = p;
      u32[u + U_SUM] = held;
    }
    if (record && shared === windowMs && n > 0 && n < cap && held + cost <= limit) {
      // The common grant, written here: the key's window is unchanged (so after the drop above
      // `held` is exactly what counts: no cutoff scan), its segment has room, and the grant
      // neither widens a unit key nor merges into the newest entry. No intermediate objects and
      // no second look at the row, where append() would re-derive every field.
      const offset = ts - base;
      if ((cost === 1 || width === 2) && offset !== u32[u + U_NEWEST] && offset <= OFFSET_MAX) {
        // Checked: the segment skip above relies on offsets being >= 0.
        if (offset < 0) throw new Error('sliding-log: grant before its key base');
        let q = p + n;
        if (q >= cap) q -= cap;
        if (width === 1) entries[pos + q] = offset;
        else {
          entries[pos + q * 2] = offset;
          entries[pos + q * 2 + 1] = cost;
        }
        u32[u + U_LEN] = n + 1;
        u32[u + U_NEWEST] = offset;
        u32[u + U_SUM] = held + cost;
        this.markDirty(key, slot);
        return granted(limit, limit - held - cost, windowMs);
      }
    }
    const weff = Math.min(windowMs, shared);
    const start = p;
    // Entries are in ts order: the ones outside (ts - weff, ts] form a prefix.
    const cutoff = ts - weff - base;
    let first = 0;
    if (cutoff >= 0) {
      while (first < n && entries[pos + p * width]! <= cutoff) {
        held -= width === 1 ? 1 : entries[pos + p * 2 + 1]!;
        first++;
        p = p + 1 === cap ? 0 : p + 1;
      }
    }
    if (cost <= limit && held + cost <= limit) {
      if (record) {
        this.append(slot, ts, cost, windowMs);
        this.markDirty(key, slot);
      }
      return granted(limit, limit - held - cost, windowMs);
    }
    let resetMs = 0;
    if (held > 0) {
      let last = start + n - 1;
      if (last >= cap) last -= cap;
      resetMs = base + entries[pos + last * width]! + weff - ts;
    }
    let retryAfterMs: number | null = null;
    if (cost <= limit) {
      // Free the oldest counted entries until the cost fits.
      const need = held + cost - limit;
      let freed = 0;
      for (let i = first; i < n; i++) {
        freed += width === 1 ? 1 : entries[pos + p * 2 + 1]!;
        if (freed >= need) {
          retryAfterMs = base + entries[pos + p * width]! + weff - ts;
          break;
        }
        p = p + 1 === cap ? 0 : p + 1;
      }
    }
    return {
      allowed: false,
      limit,
      remaining: held < limit ? limit - held : 0,
      resetMs,
      retryAfterMs,
    };
  }

  usage(key: string, ts: number, limit: number, windowMs: number): Usage {
    const slot = this.keys.get(key);
    let used = 0;
    let lastOut = ts;
    if (slot !== undefined) {
      const entries = this.readEntries(slot);
      for (let i = 0; i < entries.ts.length; i++) {
        const at = entries.ts[i]!;
        const w = entries.win[i]!;
        if (at <= ts - windowMs || at + w <= ts) continue;
        used += entries.cost[i]!;
        lastOut = Math.max(lastOut, at + Math.min(w, windowMs));
      }
    }
    return { used, limit, remaining: used < limit ? limit - used : 0, resetMs: lastOut - ts };
  }

  sweepSlot(slot: number, ts: number): boolean {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const n = rows[u + U_LEN]!;
    const shared = rows[u + U_WIN]!;
    if (n > 0 && shared !== MIXED) {
      // Uniform: the newest entry expires last; a live key costs one look at its record.
      if (this.baseOf(slot) + rows[u + U_NEWEST]! + shared > ts) return false;
    }
    if (this.frozenLeft !== 0) this.preserve(slot);
    if (n > 0 && shared === MIXED) {
      this.dropExpired(slot, ts);
      if (rows[u + U_LEN]! > 0) return false;
    }
    this.freeSlot(slot);
    return true;
  }

  encode(slot: number, ts: number): Uint8Array | undefined {
    if (this.field(slot, U_WIN) !== MIXED) return this.encodeUniform(slot, ts);
    const entries = this.readEntries(slot);
    const live: Entries = { ts: [], cost: [], win: [] };
    for (let i = 0; i < entries.ts.length; i++) {
      if (entries.ts[i]! + entries.win[i]! <= ts) continue;
      live.ts.push(entries.ts[i]!);
      live.cost.push(entries.cost[i]!);
      live.win.push(entries.win[i]!);
    }
    if (live.ts.length === 0) return undefined;
    // The form depends on the live grants only (so a restored key encodes the same bytes):
    // grants whose different windows have expired leave a one-window record.
    return encodeGrants(live.ts, live.cost, live.win);
  }

  /**
   * `encode` of a key whose entries share one window, straight from its ring, as the compact
   * one-window record (code 4, sliding-log-record.ts: 1-2 bytes per grant a second or so apart,
   * instead of 16): a snapshot encodes every dirty key, about one per applied entry under spread
   * traffic, so this record's size is much of what each snapshot row costs SQLite.
   */
  private encodeUniform(slot: number, ts: number): Uint8Array | undefined {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const n = rows[u + U_LEN]!;
    const cw = rows[u + U_CLS]!;
    const width = (cw & 1) + 1;
    const cap = capacityOf(cw);
    const pos = rows[u + U_SEG]! & 0xffff;
    const entries = this.slab.chunks[rows[u + U_SEG]! >>> 16]!;
    const shared = rows[u + U_WIN]!;
    // Entries are in ts order under one window: the expired ones (offset <= cutoff) are a prefix.
    const cutoff = ts - shared - (this.epoch + rows[u + U_BASE]!);
    let p = rows[u + U_START]!;
    let i = 0;
    while (i < n && entries[pos + p * width]! <= cutoff) {
      i++;
      p = p + 1 === cap ? 0 : p + 1;
    }
    const live = n - i;
    if (live === 0) return undefined;
    const first = entries[pos + p * width]!;
    // Costs are written only if a live one is not 1 (a costed ring may hold only unit grants once
    // its others expired): the record depends on the live grants alone, not on the ring's past.
    let costed = false;
    if (width === 2) {
      for (let j = i, q = p; j < n && !costed; j++) {
        costed = entries[pos + q * 2 + 1]! !== 1;
        q = q + 1 === cap ? 0 : q + 1;
      }
    }
    const writer = uniformWriter();
    writer.start(live, costed, shared, this.epoch + rows[u + U_BASE]! + first);
    for (; i < n; i++) {
      writer.grant(entries[pos + p * width]! - first, width === 2 ? entries[pos + p * 2 + 1]! : 1);
      p = p + 1 === cap ? 0 : p + 1;
    }
    // finish() checks that exactly `live` grants were written.
    return writer.finish();
  }

  /** Rebuilds a key from either record code (sliding-log-record.ts), as of `now`. */
  load(key: string, data: Uint8Array, now: number): void {
    if (this.keys.has(key)) throw new DrlError('storage_corrupt', 'duplicate window record');
    let slot = -1;
    forEachLogEntry(data, key, (ts, cost, windowMs, left) => {
      if (ts > now) {
        throw new DrlError('storage_corrupt', `bad sliding-log entry for ${JSON.stringify(key)}`);
      }
      if (ts + windowMs <= now) return;
      if (slot < 0) slot = this.createSlot(key, cost, left + 1);
      this.append(slot, ts, cost, windowMs);
    });
    if (slot >= 0) this.markDirty(key, slot);
  }

  /** A new key with room for `entries` entries, costed unless its first cost is 1. */
  private createSlot(key: string, firstCost: number, entries: number): number {
    const slot = this.allocSlot(key);
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const costed = firstCost === 1 ? 0 : 1;
    const cls = classFor(entries * (costed + 1));
    rows[u + U_SEG] = this.slab.alloc(cls);
    rows[u + U_CLS] = (cls << 1) | costed;
    rows[u + U_START] = 0;
    rows[u + U_LEN] = 0;
    rows[u + U_WIN] = 1;
    rows[u + U_SUM] = 0;
    return slot;
  }

  private freeSlot(slot: number): void {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    this.slab.release(rows[u + U_CLS]! >>> 1, rows[u + U_SEG]!);
    if (this.mixedWindows.size > 0) this.mixedWindows.delete(slot);
    this.releaseSlot(slot);
  }

  /** Drops entries that can never count again (ts' + W' <= ts). */
  private dropExpired(slot: number, ts: number): void {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const shared = rows[u + U_WIN]!;
    if (shared === MIXED) {
      this.dropExpiredMixed(slot, ts);
      return;
    }
    let n = rows[u + U_LEN]!;
    let p = rows[u + U_START]!;
    const cw = rows[u + U_CLS]!;
    const width = (cw & 1) + 1;
    const cap = capacityOf(cw);
    const pos = this.posOf(slot);
    const entries = this.chunkOf(slot);
    const cutoff = ts - shared - this.baseOf(slot);
    if (n === 0 || cutoff < 0 || entries[pos + p * width]! > cutoff) return;
    let sum = rows[u + U_SUM]!;
    while (n > 0 && entries[pos + p * width]! <= cutoff) {
      sum -= width === 1 ? 1 : entries[pos + p * 2 + 1]!;
      n--;
      p = p + 1 === cap ? 0 : p + 1;
    }
    rows[u + U_LEN] = n;
    rows[u + U_START] = n === 0 ? 0 : p;
    rows[u + U_SUM] = sum;
  }

  private append(slot: number, ts: number, cost: number, windowMs: number): void {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const n = rows[u + U_LEN]!;
    if (n === 0) {
      if (this.mixedWindows.size > 0) this.mixedWindows.delete(slot);
      if (cost !== 1 && (rows[u + U_CLS]! & 1) === 0) {
        this.relocate(slot, 1, capacityOf(rows[u + U_CLS]!));
      }
      this.setBase(slot, ts);
      rows[u + U_SUM] = cost;
      rows[u + U_WIN] = windowMs;
      rows[u + U_START] = 0;
      rows[u + U_LEN] = 1;
      rows[u + U_NEWEST] = 0;
      this.writeEntry(slot, 0, 0, cost);
      return;
    }
    let mixed = rows[u + U_WIN] === MIXED ? this.mixedWindows.get(slot)! : undefined;
    if (mixed === undefined && rows[u + U_WIN] !== windowMs) {
      mixed = new Array<number>(n).fill(rows[u + U_WIN]!);
      this.mixedWindows.set(slot, mixed);
      rows[u + U_WIN] = MIXED;
    }
    let offset = ts - this.baseOf(slot);
    // ts never decreases and the base is an entry's ts, so offsets stay >= 0: decide() relies on
    // it to skip the segment when the cutoff is below the base.
    if (offset < 0) throw new Error('sliding-log: entry before its key base');
    const merges =
      offset === rows[u + U_NEWEST] && (mixed === undefined || mixed[n - 1] === windowMs);
    if ((merges || cost !== 1) && (rows[u + U_CLS]! & 1) === 0) {
      // A cost other than 1 (or a merge, which makes one): entries need their cost word.
      this.relocate(slot, 1, Math.max(n + 1, capacityOf(rows[u + U_CLS]!)));
    }
    if (merges) {
      let last = rows[u + U_START]! + n - 1;
      const cap = capacityOf(rows[u + U_CLS]!);
      if (last >= cap) last -= cap;
      this.chunkOf(slot)[this.posOf(slot) + last * 2 + 1]! += cost;
      rows[u + U_SUM]! += cost;
      return;
    }
    if (offset > OFFSET_MAX) offset = this.rebase(slot, ts);
    const cw = rows[u + U_CLS]!;
    if (n === capacityOf(cw)) this.relocate(slot, cw & 1, Math.max(n + 1, Math.ceil(n * 1.5)));
    let p = rows[u + U_START]! + n;
    const capNow = capacityOf(rows[u + U_CLS]!);
    if (p >= capNow) p -= capNow;
    this.writeEntry(slot, p, offset, cost);
    rows[u + U_LEN] = n + 1;
    rows[u + U_NEWEST] = offset;
    rows[u + U_SUM]! += cost;
    mixed?.push(windowMs);
    if (this.slab.wantsCompaction()) this.compact();
  }

  private writeEntry(slot: number, p: number, offset: number, cost: number): void {
    const entries = this.chunkOf(slot);
    if ((this.field(slot, U_CLS) & 1) === 0) {
      if (cost !== 1) throw new Error('sliding-log: cost other than 1 in a unit segment');
      entries[this.posOf(slot) + p] = offset;
      return;
    }
    const at = this.posOf(slot) + p * 2;
    entries[at] = offset;
    entries[at + 1] = cost;
  }

  /** Moves the base to the oldest entry; live entries span less than WINDOW_MS_MAX. */
  private rebase(slot: number, ts: number): number {
    const entries = this.readEntries(slot);
    const newBase = entries.ts[0]!;
    const offset = ts - newBase;
    if (offset > OFFSET_MAX) throw new Error('sliding-log: live entries span more than 2^32 ms');
    this.setBase(slot, newBase);
    this.writeEntries(slot, entries.ts, entries.cost);
    return offset;
  }

  /** The epoch moves to WINDOW_MS_MAX before `ts`; every key's base and offsets follow. */
  private moveEpoch(ts: number): void {
    const epoch = ts - WINDOW_MS_MAX;
    // Every key's entries are rewritten (and expired ones dropped as of ts).
    if (this.frozenLeft !== 0) this.preserveAll();
    const moved: Array<[number, Entries]> = [];
    for (const slot of this.keys.values()) {
      this.dropExpired(slot, ts);
      moved.push([slot, this.readEntries(slot)]);
    }
    this.epoch = epoch;
    for (const [slot, entries] of moved) {
      this.setField(slot, U_BASE, entries.ts.length === 0 ? 0 : entries.ts[0]! - epoch);
      this.writeEntries(slot, entries.ts, entries.cost);
    }
  }

  /**
   * Moves the entries to a new segment with room for `entries` entries, `costed` (0 or 1) giving
   * the new width (a unit key's costs are 1), ring start reset to 0. The old segment is freed.
   */
  private relocate(slot: number, costed: number, entries: number): void {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const oldSeg = rows[u + U_SEG]!;
    const oldCw = rows[u + U_CLS]!;
    const oldWidth = (oldCw & 1) + 1;
    const oldCap = capacityOf(oldCw);
    const n = rows[u + U_LEN]!;
    const cls = classFor(entries * (costed + 1));
    const seg = this.slab.alloc(cls);
    copyEntries(
      this.slab.chunks,
      oldSeg,
      oldWidth,
      oldCap,
      rows[u + U_START]!,
      n,
      this.slab.chunks,
      seg,
      costed + 1,
    );
    // Released after the copy: a free segment's first word becomes a free-list link.
    this.slab.release(oldCw >>> 1, oldSeg);
    rows[u + U_SEG] = seg;
    rows[u + U_CLS] = (cls << 1) | costed;
    rows[u + U_START] = 0;
  }

  /** Rewrites the slot's entries from logical index 0 (ring start reset to 0). */
  private writeEntries(slot: number, tss: number[], costs: number[]): void {
    const base = this.baseOf(slot);
    this.setField(slot, U_START, 0);
    for (let i = 0; i < tss.length; i++) this.writeEntry(slot, i, tss[i]! - base, costs[i]!);
    this.setField(slot, U_LEN, tss.length);
    if (tss.length > 0) this.setField(slot, U_NEWEST, tss[tss.length - 1]! - base);
  }

  /** The slot's entries in order, with absolute timestamps and each entry's window. */
  private readEntries(slot: number): Entries {
    const rows = this.keys.rowsOf(slot);
    const u = this.keys.rowAt(slot);
    const n = rows[u + U_LEN]!;
    const cw = rows[u + U_CLS]!;
    const width = (cw & 1) + 1;
    const cap = capacityOf(cw);
    const pos = this.posOf(slot);
    const entries = this.chunkOf(slot);
    const base = this.baseOf(slot);
    const shared = rows[u + U_WIN]!;
    const mixed = this.mixedWindows.get(slot);
    const out: Entries = { ts: [], cost: [], win: [] };
    for (let i = 0, p = rows[u + U_START]!; i < n; i++) {
      out.ts.push(base + entries[pos + p * width]!);
      out.cost.push(width === 1 ? 1 : entries[pos + p * 2 + 1]!);
      out.win.push(shared === MIXED ? mixed![i]! : shared);
      p = p + 1 === cap ? 0 : p + 1;
    }
    return out;
  }

  private dropExpiredMixed(slot: number, ts: number): void {
    const entries = this.readEntries(slot);
    const keep: number[] = [];
    for (let i = 0; i < entries.ts.length; i++) {
      if (entries.ts[i]! + entries.win[i]! > ts) keep.push(i);
    }
    if (keep.length === entries.ts.length) return;
    const tss = keep.map((i) => entries.ts[i]!);
    const costs = keep.map((i) => entries.cost[i]!);
    const wins = keep.map((i) => entries.win[i]!);
    if (tss.length > 0) this.setBase(slot, tss[0]!);
    this.writeEntries(slot, tss, costs);
    this.setField(
      slot,
      U_SUM,
      costs.reduce((a, b) => a + b, 0),
    );
    if (wins.every((w) => w === wins[0])) {
      this.mixedWindows.delete(slot);
      this.setField(slot, U_WIN, wins[0] ?? 1);
    } else this.mixedWindows.set(slot, wins);
  }

  private decideMixed(
    key: string,
    slot: number,
    ts: number,
    cost: number,
    limit: number,
    windowMs: number,
    record: boolean,
  ): Decision {
    const entries = this.readEntries(slot);
    let held = 0;
    let lastOut = ts;
    const counted: Array<{ out: number; cost: number }> = [];
    for (let i = 0; i < entries.ts.length; i++) {
      const at = entries.ts[i]!;
      const w = entries.win[i]!;
      if (at <= ts - windowMs || at + w <= ts) continue;
      const out = at + Math.min(w, windowMs);
      held += entries.cost[i]!;
      counted.push({ out, cost: entries.cost[i]! });
      lastOut = Math.max(lastOut, out);
    }
    if (cost <= limit && held + cost <= limit) {
      if (record) {
        this.append(slot, ts, cost, windowMs);
        this.markDirty(key, slot);
      }
      return granted(limit, limit - held - cost, windowMs);
    }
    let retryAfterMs: number | null = null;
    if (cost <= limit) {
      counted.sort((a, b) => a.out - b.out);
      const need = held + cost - limit;
      let freed = 0;
      for (const entry of counted) {
        freed += entry.cost;
        if (freed >= need) {
          retryAfterMs = entry.out - ts;
          break;
        }
      }
    }
    return {
      allowed: false,
      limit,
      remaining: held < limit ? limit - held : 0,
      resetMs: lastOut - ts,
      retryAfterMs,
    };
  }

  /**
   * Moves every live segment into fresh chunks, dropping free-listed garbage. Segments of up to
   * INITIAL_ENTRIES_MAX entries keep their size (room to fill up without relocating); bigger ones
   * are cut to what they hold.
   */
  private compact(): void {
    const slab = new EntrySlab();
    for (const slot of this.keys.values()) {
      const rows = this.keys.rowsOf(slot);
      const u = this.keys.rowAt(slot);
      const n = rows[u + U_LEN]!;
      const cw = rows[u + U_CLS]!;
      const width = (cw & 1) + 1;
      const oldCap = capacityOf(cw);
      const cls =
        oldCap <= INITIAL_ENTRIES_MAX
          ? cw >>> 1
          : classFor(Math.max(n, INITIAL_ENTRIES_MAX) * width);
      const handle = slab.alloc(cls);
      copyEntries(
        this.slab.chunks,
        rows[u + U_SEG]!,
        width,
        oldCap,
        rows[u + U_START]!,
        n,
        slab.chunks,
        handle,
        width,
      );
      rows[u + U_SEG] = handle;
      rows[u + U_CLS] = (cls << 1) | (cw & 1);
      rows[u + U_START] = 0;
    }
    this.slab = slab;
  }
}

/**
 * Copies `n` ring entries starting at ring index `start` of a segment (`fromWidth` words per
 * entry, `fromCap` entries) to the start of another (`toWidth` words; costs 1 when widening).
 */
function copyEntries(
  fromChunks: Uint32Array[],
  fromSeg: number,
  fromWidth: number,
  fromCap: number,
  start: number,
  n: number,
  toChunks: Uint32Array[],
  toSeg: number,
  toWidth: number,
): void {
  const from = fromChunks[fromSeg >>> 16]!;
  const fromPos = fromSeg & 0xffff;
  const to = toChunks[toSeg >>> 16]!;
  const toPos = toSeg & 0xffff;
  for (let i = 0, p = start; i < n; i++) {
    const at = fromPos + p * fromWidth;
    to[toPos + i * toWidth] = from[at]!;
    if (toWidth === 2) to[toPos + i * 2 + 1] = fromWidth === 2 ? from[at + 1]! : 1;
    p = p + 1 === fromCap ? 0 : p + 1;
  }
}
