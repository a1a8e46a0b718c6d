/**
 * The replicated state machine of one node: committed Raft entries in, limiter results out.
 * Wiring only: decoding (command codec), the engine (src/limiter) and its SQLite snapshot
 * store (src/storage) do the work. Every replica applies the same entries in the same order
 * and so reaches the same decisions; a command the engine refuses throws the same DrlError on
 * every replica and changes nothing, which is returned (not thrown) to the proposer.
 */
import { DrlError, isDrlError } from '../../errors.js';
import { decodeCommand } from '../../limiter/command-codec.js';
import type { Limiter } from '../../limiter/index.js';
import type { ApplyResult, Command } from '../../limiter/types.js';
import type { SnapshotSource, StateMachine } from '../../raft/driver/state-machine.js';
import { type Entry, EntryType, type SnapshotMeta } from '../../raft/types.js';
import { SlicedSnapshotWrite } from '../../storage/limiter-sliced-write.js';
import {
  backlogPages,
  SNAPSHOT_PAGES_DEFAULT,
  type SnapshotBacklog,
} from '../../storage/limiter-snapshot-pages.js';
import type { LimiterSnapshotStore } from '../../storage/limiter-snapshot-store.js';
import { decodeImage, encodeImage, imageSource } from './limiter-snapshot-image.js';
import { type Announce, decodeAnnounce, isAnnounce } from './member-announce.js';
import type { DirectoryImage } from './member-directory.js';

export type ApplyOutcome =
  /** index: set on a requestId retry, the index of the entry that first decided it. */
  | { kind: 'result'; result: ApplyResult; ts: number; index?: number }
  | { kind: 'error'; error: DrlError }
  /** A leader's no-op or a membership change: nothing for the limiter. */
  | { kind: 'none' };

const NONE: ApplyOutcome = { kind: 'none' };

/** Longest the periodic snapshot writes to SQLite in one event-loop turn. */
const SNAPSHOT_SLICE_MS = 2;

/**
 * A staggered node starts a due periodic snapshot only at an index whose remainder by this
 * many entries (or by snapshotEveryEntries, if smaller) is its own (snapshotPhase), so two
 * members' snapshots start at least that many entries / members apart; a due snapshot waits
 * for its index at most that many entries minus one.
 */
export const SNAPSHOT_STAGGER_ENTRIES = 1024;

/** Applied entries between two looks at the page estimate (a sum over the rules). */
const PAGES_CHECK_ENTRIES = 64;

/**
 * The first snapshot is full and captured as copies in one turn (no dirty marks before it), so
 * it is taken early, while the state is small (a capture of 10,000 keys took 4-22 ms under
 * load); the incremental ones after it follow the page estimate.
 */
const FIRST_SNAPSHOT_ENTRIES_DEFAULT = 2000;

/** How one periodic snapshot went (the stall it may cause is the longest single turn). */
export interface SnapshotStats {
  records: number;
  /** Capturing the dirty records from the engine (one synchronous turn). */
  captureMs: number;
  /** Longest single turn spent writing to SQLite (commit included). */
  turnMsMax: number;
  turns: number;
  /** The commit alone (part of the last turn). */
  commitMs: number;
  /** What made it due: the entry bound, the page estimate, or neither (an explicit flush). */
  reason: 'entries' | 'pages' | 'flush';
}

export interface LimiterStateMachineOptions {
  /**
   * Write an incremental snapshot at the latest after this many applied entries (bounds the
   * Raft log and a restart's replay).
   */
  snapshotEveryEntries: number;
  /**
   * And sooner, once it would rewrite about this many SQLite pages (src/storage/
   * limiter-snapshot-pages.ts; default SNAPSHOT_PAGES_DEFAULT): many distinct keys snapshot
   * often, a few thousand busy keys seldom, as each of their snapshots rewrites the same pages.
   */
  snapshotPagesMax?: number;
  /** The first (full) snapshot after this many entries (default 2,000, at most snapshotEveryEntries). */
  firstSnapshotEntries?: number;
  /**
   * This node's share of a stagger period, in [0, 1) (snapshot-phase.ts). Given, a periodic
   * snapshot, once due, starts at the next index i with i mod P = round(share x P) mod P,
   * P = min(SNAPSHOT_STAGGER_ENTRIES, snapshotEveryEntries): the members of a group apply the
   * same entries and would otherwise all snapshot at the same index. Absent, it starts when
   * due. The first (full) snapshot is staggered too; an explicit flush is not.
   */
  snapshotPhase?: number;
  /**
   * Called after each snapshot with its index and duration from capture to commit (compaction,
   * metrics, logs); the duration spans several event-loop turns, `stats` says what one cost.
   */
  onSnapshot?: (index: number, durationMs: number, stats: SnapshotStats) => void;
  /** Called with each applied command's ts (the leader's decision clock floor). */
  onTs?: (ts: number) => void;
  /** Called when a leader's address announcement applies. */
  onAnnounce?: (a: Announce) => void;
  /** The member directory, carried in snapshots sent to lagging peers. */
  directory?: { export(): DirectoryImage; import(image: DirectoryImage): void };
  /**
   * Test hook (--test-mode only): during a restore, SIGKILL this process after writing this
   * many records of the new state (the install's transaction must leave the old state).
   */
  crashDuringRestoreAfterRecords?: number;
}

export class LimiterStateMachine implements StateMachine<ApplyOutcome> {
  private applied: number;
  private snapshotIndex: number;
  /** The periodic snapshot being written a slice per turn, if any. */
  private writing: {
    write: SlicedSnapshotWrite;
    startMs: number;
    stats: SnapshotStats;
    timer: NodeJS.Immediate | null;
  } | null = null;
  /** A sliced write failed midway: its dirty marks are gone, so the next snapshot is full. */
  private nextFull = false;
  /** The stagger period P (snapshotPhase). */
  private readonly staggerEntries: number;
  /** This node's remainder of a start index by staggerEntries; -1: not staggered. */
  private readonly slot: number;
  /** A periodic snapshot is due and waits for the node's slot. */
  private due: SnapshotStats['reason'] | null = null;
  /** Reused by snapshotReason (no object per check). */
  private readonly backlog: SnapshotBacklog = {
    changedWindows: 0,
    storedWindows: 0,
    windowRowBytes: 0,
    changedRequests: 0,
    storedRequests: 0,
  };

  constructor(
    readonly engine: Limiter,
    private readonly store: LimiterSnapshotStore,
    private readonly o: LimiterStateMachineOptions,
  ) {
    this.snapshotIndex = store.appliedIndex;
    this.applied = this.snapshotIndex;
    const phase = o.snapshotPhase;
    if (phase !== undefined && !(phase >= 0 && phase < 1)) {
      throw new Error(`snapshotPhase ${phase}: a share in [0, 1)`);
    }
    this.staggerEntries = Math.min(SNAPSHOT_STAGGER_ENTRIES, o.snapshotEveryEntries);
    // A share just under 1 rounds up to the period, which is slot 0.
    this.slot =
      phase === undefined ? -1 : Math.round(phase * this.staggerEntries) % this.staggerEntries;
  }

  appliedIndex(): number {
    return this.snapshotIndex;
  }

  durableIndex(): number {
    return this.snapshotIndex;
  }

  /** The engine's full state after the last applied entry, plus the member directory. */
  snapshotData(): Uint8Array {
    const members = this.o.directory?.export() ?? {};
    return encodeImage({ index: this.applied, members }, this.engine.records());
  }

  /**
   * The last durable snapshot, read from the SQLite file through its own read transaction (a
   * view that later snapshots do not change) and encoded a frame per call: the leader streams
   * a million keys without blocking its event loop. null when the file cannot be shared or
   * holds no snapshot yet (the driver then uses snapshotData).
   */
  openSnapshot(): SnapshotSource | null {
    const reader = this.store.openReader();
    if (reader === null) return null;
    if (reader.index === 0) {
      reader.close();
      return null;
    }
    if (reader.index !== this.snapshotIndex) {
      reader.close();
      throw new Error(
        `state machine invariant: stored snapshot ${reader.index} is not the durable ${this.snapshotIndex}`,
      );
    }
    const members = this.o.directory?.export() ?? {};
    return imageSource({ index: reader.index, members }, reader.records(), () => reader.close());
  }

  /**
   * Replaces the state with a leader's snapshot: the engine from its records, then one full
   * SQLite transaction at meta.index (a crash midway rolls back to the old state).
   */
  restore(meta: SnapshotMeta, data: Uint8Array): void {
    // The whole state is replaced: a periodic snapshot still being written is moot.
    this.cancelWrite();
    const { header, records } = decodeImage(data);
    if (header.index !== meta.index) {
      throw new DrlError(
        'storage_corrupt',
        `snapshot ${meta.index} holds state at ${header.index}`,
      );
    }
    this.engine.restore(records);
    const crashAfter = this.o.crashDuringRestoreAfterRecords;
    this.engine.writeSnapshot(
      crashAfter === undefined ? this.store : crashingWriter(this.store, crashAfter),
      meta.index,
      'full',
    );
    this.applied = meta.index;
    this.snapshotIndex = meta.index;
    this.due = null;
    this.o.directory?.import(header.members);
    this.o.onTs?.(this.engine.lastTs);
  }

  /**
   * `wanted` false (a follower's entries, or a leader's that no proposer waits for): the same
   * change to the state, but no ApplyResult and no outcome object (NONE is returned), as the
   * driver discards them.
   */
  apply(entry: Entry, wanted = true): ApplyOutcome {
    if (entry.index !== this.applied + 1) {
      throw new Error(`state machine invariant: entry ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    let outcome = NONE;
    if (entry.type === EntryType.Normal && entry.data.length > 0) {
      if (isAnnounce(entry.data)) this.applyAnnounce(entry.data);
      else if (wanted) outcome = this.applyCommand(entry);
      else this.applyUnread(entry);
    }
    if (!this.writing) {
      this.due ??= this.snapshotReason();
      if (this.due !== null && this.inSlot()) {
        this.startWrite(this.due);
        this.due = null;
        this.writing!.timer = setImmediate(() => this.writeSlice());
      }
    }
    return outcome;
  }

  /** Whether a due snapshot may start at the applied index (snapshotPhase). */
  private inSlot(): boolean {
    return this.slot < 0 || this.applied % this.staggerEntries === this.slot;
  }

  /** Whether a periodic snapshot is due after this entry, and why. */
  private snapshotReason(): 'entries' | 'pages' | null {
    const entries = this.applied - this.snapshotIndex;
    if (entries >= this.o.snapshotEveryEntries) return 'entries';
    if (this.snapshotIndex === 0) {
      const first = this.o.firstSnapshotEntries ?? FIRST_SNAPSHOT_ENTRIES_DEFAULT;
      return entries >= first ? 'entries' : null;
    }
    if (entries % PAGES_CHECK_ENTRIES !== 0) return null;
    const b = this.backlog;
    const engine = this.engine;
    b.changedWindows = engine.changedWindowCount;
    b.storedWindows = engine.keyCount;
    b.windowRowBytes = this.store.windowRowBytes;
    b.changedRequests = engine.changedRequestCount;
    b.storedRequests = engine.requestCount;
    const pagesMax = this.o.snapshotPagesMax ?? SNAPSHOT_PAGES_DEFAULT;
    return backlogPages(b) >= pagesMax ? 'pages' : null;
  }

  /**
   * Writes what changed since the last snapshot, with the applied index, now (finishing a
   * sliced write in progress first): for a clean stop and for tests and benchmarks.
   */
  persistSnapshot(): void {
    if (this.writing) this.finishWrite(Number.POSITIVE_INFINITY);
    if (this.applied === this.snapshotIndex) return;
    this.due = null;
    this.startWrite('flush');
    this.finishWrite(Number.POSITIVE_INFINITY);
  }

  /** True while a periodic snapshot is being written across turns. */
  get snapshotInProgress(): boolean {
    return this.writing !== null;
  }

  /**
   * Captures the snapshot at the applied index: an incremental one copy-on-write (the engine's
   * captureSnapshot: no per-key work in this turn), a full one as copies; the encoding of
   * changed keys and the SQLite writes follow in slices (writeSlice), so no turn holds the
   * event loop for the whole snapshot.
   */
  private startWrite(reason: SnapshotStats['reason']): void {
    const startMs = performance.now();
    const full = this.snapshotIndex === 0 || this.nextFull;
    let write: SlicedSnapshotWrite;
    if (full) {
      write = new SlicedSnapshotWrite();
      this.engine.writeSnapshot(write, this.applied, 'full');
    } else write = SlicedSnapshotWrite.deferred(this.engine.captureSnapshot(this.applied));
    this.nextFull = false;
    const captureMs = performance.now() - startMs;
    this.writing = {
      write,
      startMs,
      stats: { records: write.records, captureMs, turnMsMax: 0, turns: 0, commitMs: 0, reason },
      timer: null,
    };
  }

  private writeSlice(): void {
    const w = this.writing;
    if (!w) return;
    w.timer = null;
    // The owner closed the store (stop) without a flush: the snapshot is simply not taken.
    if (!this.store.isOpen) {
      w.write.release();
      this.writing = null;
      this.nextFull = true;
      return;
    }
    if (!this.finishWrite(SNAPSHOT_SLICE_MS)) w.timer = setImmediate(() => this.writeSlice());
  }

  /** One slice of the write in progress (budgetMs); true once it committed. */
  private finishWrite(budgetMs: number): boolean {
    const w = this.writing!;
    const turnStartMs = performance.now();
    let done: boolean;
    try {
      done = w.write.step(this.store, budgetMs);
    } catch (err) {
      this.store.abort();
      w.write.release();
      this.writing = null;
      this.nextFull = true;
      throw err;
    }
    w.stats.turns++;
    w.stats.turnMsMax = Math.max(w.stats.turnMsMax, performance.now() - turnStartMs);
    if (!done) return false;
    w.stats.commitMs = w.write.commitMs;
    if (w.timer) clearImmediate(w.timer);
    this.writing = null;
    this.snapshotIndex = w.write.index;
    this.o.onSnapshot?.(w.write.index, performance.now() - w.startMs, w.stats);
    return true;
  }

  private cancelWrite(): void {
    const w = this.writing;
    if (!w) return;
    if (w.timer) clearImmediate(w.timer);
    this.store.abort();
    w.write.release();
    this.writing = null;
  }

  private applyAnnounce(data: Uint8Array): void {
    const a = decodeAnnounce(data);
    if (a !== null) this.o.onAnnounce?.(a);
  }

  /** Decodes an entry's command and checks its ts (a corrupt entry stops the node). */
  private commandOf(entry: Entry): Command {
    let command: Command;
    try {
      command = decodeCommand(entry.data);
    } catch (err) {
      // A corrupt entry passed the log's checksum: refuse to guess, stop the node.
      throw new DrlError('storage_corrupt', `entry ${entry.index}: ${(err as Error).message}`);
    }
    // ts never decreases along the log: the leader's decision clock guarantees it.
    if (command.ts < this.engine.lastTs) {
      throw new Error(
        `ts went backwards at entry ${entry.index}: ${command.ts} < ${this.engine.lastTs}`,
      );
    }
    this.o.onTs?.(command.ts);
    return command;
  }

  /** applyCommand's change to the state without its result: an allow skips the ApplyResult. */
  private applyUnread(entry: Entry): void {
    const c = this.commandOf(entry);
    try {
      if (c.type === 'allow') {
        this.engine.allow(
          c.ts,
          c.key,
          c.rule,
          c.cost,
          c.limit,
          c.windowMs,
          c.requestId,
          entry.index,
        );
      } else this.engine.apply(c, entry.index);
    } catch (err) {
      // Refused alike on every replica, and changed nothing: there is no one to tell here.
      if (!isDrlError(err)) throw err;
    }
  }

  private applyCommand(entry: Entry): ApplyOutcome {
    const command = this.commandOf(entry);
    try {
      const result = this.engine.apply(command, entry.index);
      // A retried requestId answers with the first decision's index and ts (the contract:
      // "returns the first decision"); the engine keeps both in its snapshot, so this holds
      // after a restore too. A record written before log indexes were kept answers as a retry.
      if (result.type === 'decision' && result.duplicate && result.firstLogIndex !== undefined) {
        return { kind: 'result', result, ts: result.firstTs, index: result.firstLogIndex };
      }
      return { kind: 'result', result, ts: command.ts };
    } catch (err) {
      if (isDrlError(err)) return { kind: 'error', error: err };
      throw err;
    }
  }
}

/** Test hook: a writer that kills the process after `n` records (mid-transaction). */
function crashingWriter(store: LimiterSnapshotStore, n: number): LimiterSnapshotStore {
  let written = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return (record: Parameters<LimiterSnapshotStore['put']>[0]) => {
          if (++written > n) process.kill(process.pid, 'SIGKILL');
          target.put(record);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
