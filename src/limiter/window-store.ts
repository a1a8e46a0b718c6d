import type { KeyIndex } from './key-index.js';
import type { Algorithm, Decision, Usage } from './types.js';

/**
 * The per-rule window state of one algorithm: a KeyIndex from key to a slot in typed arrays.
 * Every method is deterministic in its arguments; `record` false never changes anything.
 */
export interface WindowStore extends FrozenWindows {
  readonly algorithm: Algorithm;
  /** key -> slot. Iterated (slot order) by the eviction sweep and the snapshot writer. */
  readonly keys: KeyIndex;
  /**
   * Decides an allow of `cost` at `ts` under (limit, windowMs, burst); records the grant when
   * `record` is true. Returns a fresh object the caller may hand out.
   */
  decide(
    key: string,
    ts: number,
    cost: number,
    limit: number,
    windowMs: number,
    burst: number,
    record: boolean,
  ): Decision;
  usage(key: string, ts: number, limit: number, windowMs: number, burst: number): Usage;
  /** Drops what expired by `ts` at a live slot; frees it (and the key) when nothing is left. */
  sweepSlot(slot: number, ts: number): boolean;
  /** The slot's state as of `ts` (expired parts left out), or undefined when nothing is live. */
  encode(slot: number, ts: number): Uint8Array | undefined;
  /**
   * Rebuilds a key from `encode`'s bytes as of `ts` (what expired by then is left out; a key
   * with nothing left is not created). Throws storage_corrupt on bad bytes.
   */
  load(key: string, data: Uint8Array, ts: number): void;
  /** Incremental snapshots: start noting changed and evicted keys. */
  startTracking(): void;
  /**
   * Keys granted to since the last take with their slots (-1: evicted since; skip it), and keys
   * evicted since then; resets both.
   */
  takeDirty(): { changed: string[]; slots: number[]; evicted: string[] };
  /** Keys changed or evicted since the last take (an upper bound on takeDirty's rows). */
  readonly changedCount: number;
  /**
   * A deferred snapshot as of `ts`: takes the dirty keys like takeDirty, but their states are
   * read later by position (frozenRecord), copied first if the key changes meanwhile, until
   * releaseFrozen. See SlotTable.freezeDirty.
   */
  freezeDirty(ts: number): { evicted: string[]; frozen: number };
}

/** A store's part of a deferred snapshot: its frozen keys, read one position at a time. */
export interface FrozenWindows {
  frozenRecord(i: number): { key: string; data: Uint8Array | undefined } | null;
  releaseFrozen(): void;
}

export const ALGORITHM_CODES: Record<Algorithm, number> = {
  'sliding-log': 1,
  'sliding-counter': 2,
  'token-bucket': 3,
};
