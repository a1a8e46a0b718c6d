import { DrlError } from '../../errors.js';
import type { Entry, LogView, SnapshotMeta } from '../types.js';
import { ClearingRing } from './clearing-ring.js';
import { entrySize } from './entry-size.js';

const loadChunkBytes = 4 * 1024 * 1024;

/**
 * The core's in-memory log (etcd's raftLog + unstable in one array): entries after `offset`
 * (the compaction point, whose term is `offsetTerm`), of which those <= `stableIndex` are
 * durable and those in (stableIndex, emittedIndex] are being persisted by an outstanding Ready.
 */
export class RaftLog {
  private readonly ents = new ClearingRing<Entry>(10);
  offset = 0;
  offsetTerm = 0;
  stableIndex = 0;
  emittedIndex = 0;
  committed = 0;
  applied = 0;
  /** Last index handed out as a committed entry (or snapshot) in a Ready. */
  appliedEmitted = 0;
  /** A snapshot received from the leader, to persist and install (next Ready). */
  pendingSnapshot: SnapshotMeta | null = null;
  /** Latest snapshot the state machine has (what the leader streams to lagging peers). */
  snapshot: SnapshotMeta | null = null;

  /** Loads what is durable (restart recovery). */
  static load(view: LogView, applied: number | undefined): RaftLog {
    const log = new RaftLog();
    const snap = view.snapshot;
    log.snapshot = snap;
    log.offset = snap?.index ?? 0;
    log.offsetTerm = snap?.term ?? 0;
    const first = view.firstIndex();
    const last = view.lastIndex();
    if (first !== log.offset + 1)
      throw new DrlError('storage_corrupt', 'log starts after snapshot');
    let lo = first;
    for (let guard = 0; lo <= last && guard <= last; guard++) {
      const chunk = view.entries(lo, last + 1, loadChunkBytes);
      for (const e of chunk) {
        if (e.index !== lo) throw new DrlError('storage_corrupt', `log gap at ${lo}`);
        log.ents.push(e);
        lo++;
      }
    }
    log.stableIndex = last;
    log.emittedIndex = last;
    const commit = view.hardState.commit;
    if (commit > last) throw new DrlError('storage_corrupt', `commit ${commit} > last ${last}`);
    // The state machine never holds an entry the log did not have durably first (an install
    // persists the snapshot before the state machine restores it). Ahead of the log, it holds
    // entries the log lost (a write acknowledged before it was durable): refusing to start is
    // the only safe answer, the leader would send them again and they would apply twice.
    if (applied !== undefined && applied > last) {
      throw new DrlError(
        'storage_corrupt',
        `the state machine has applied entry ${applied} but the Raft log ends at ${last}: the log lost entries it had acknowledged; replace this node (drl cluster remove, empty its data directory, start it with --join, drl cluster add)`,
      );
    }
    // The state machine may be ahead of the commit index in the hard state: a driver that
    // applies durable committed entries before persisting the Ready that carries their commit
    // (applyDurableFirst), or one that does not write commit-only changes, restarts with
    // applied > hardState.commit. Whatever was applied was committed (and durable in this log),
    // so the commit index is raised to it; clamping applied down instead would re-emit entries
    // the state machine already holds (sim seed 269).
    log.committed = Math.max(commit, log.offset, applied ?? 0);
    log.applied = Math.min(Math.max(applied ?? log.offset, log.offset), log.committed);
    log.appliedEmitted = log.applied;
    return log;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term of entry `index`, or undefined when compacted or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset) return undefined;
    return this.ents.at(index - this.offset - 1)?.term;
  }

  entry(index: number): Entry | undefined {
    return this.ents.at(index - this.offset - 1);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi), at most maxBytes (at least one). lo must be > offset. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    hi = Math.min(hi, this.lastIndex() + 1);
    for (let i = lo; i < hi; i++) {
      const e = this.ents.at(i - this.offset - 1);
      if (e === undefined) break;
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Highest index <= `index` whose term is <= `term` (fast backtracking), with its term. */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    index = Math.min(index, this.lastIndex());
    for (; index > this.offset; index--) {
      const t = this.term(index) ?? 0;
      if (t <= term) return { index, term: t };
    }
    return { index, term: this.term(index) ?? 0 };
  }

  /** Index of the first entry that conflicts with (or extends) the log, 0 if all match. */
  findConflict(entries: Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Appends entries (index order, contiguous), truncating any conflicting suffix first.
   * Returns the first index that was truncated, or 0.
   */
  append(entries: Entry[], truncationAllowed: boolean): number {
    const first = entries[0];
    if (first === undefined) return 0;
    const last = this.lastIndex();
    if (first.index <= this.committed) {
      throw new Error(
        `raft log: append at ${first.index} would overwrite committed ${this.committed}`,
      );
    }
    if (first.index > last + 1)
      throw new Error(`raft log: gap appending ${first.index} after ${last}`);
    let truncatedAt = 0;
    if (first.index <= last) {
      if (!truncationAllowed) throw new Error('raft invariant: a leader never overwrites its log');
      this.ents.truncate(first.index - this.offset - 1);
      this.stableIndex = Math.min(this.stableIndex, first.index - 1);
      this.emittedIndex = Math.min(this.emittedIndex, first.index - 1);
      truncatedAt = first.index;
    }
    for (const e of entries) this.ents.push(e);
    return truncatedAt;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) {
      throw new Error(`raft invariant: commit ${index} beyond last index ${this.lastIndex()}`);
    }
    this.committed = index;
    return true;
  }

  /** Entries persisted by a Ready whose last entry was (index, term). */
  stableTo(index: number, term: number): void {
    if (this.term(index) === term && index > this.stableIndex) this.stableIndex = index;
  }

  appliedTo(index: number): void {
    if (index > this.committed) {
      throw new Error(`raft invariant: applied ${index} > committed ${this.committed}`);
    }
    if (index > this.applied) this.applied = index;
  }

  /** Entries ready for a Ready: (emittedIndex, last]. */
  unemittedEntries(): Entry[] {
    return this.ents.slice(this.emittedIndex - this.offset);
  }

  /** Committed entries not yet handed out, at most maxCount, none past `upTo`. */
  committedToEmit(maxCount: number, upTo = this.committed): Entry[] {
    const hi = Math.min(this.committed, upTo, this.appliedEmitted + maxCount);
    if (hi <= this.appliedEmitted) return [];
    return this.ents.slice(this.appliedEmitted - this.offset, hi - this.offset);
  }

  /** Replaces the whole log with a snapshot from the leader. */
  restore(meta: SnapshotMeta): void {
    this.ents.clear();
    this.offset = meta.index;
    this.offsetTerm = meta.term;
    this.stableIndex = meta.index;
    this.emittedIndex = meta.index;
    this.committed = meta.index;
    this.appliedEmitted = meta.index;
    this.pendingSnapshot = meta;
    this.snapshot = meta;
  }

  /** Drops entries up to `index` (which must be durable and applied). */
  compactTo(index: number): void {
    if (index <= this.offset) return;
    if (index > this.applied || index > this.stableIndex) {
      throw new Error(`raft log: compact ${index} past applied ${this.applied}`);
    }
    const term = this.term(index);
    if (term === undefined) return;
    this.ents.dropFront(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
  }
}
