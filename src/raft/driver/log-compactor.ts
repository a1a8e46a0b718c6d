/**
 * Log compaction driven by the state machine's durable snapshots. Each time the state machine
 * makes a new index durable, the core records a snapshot there (snapshotTaken) and compacts its
 * own log to `snapshotTailEntries` behind it (never past what is stable), so a follower a little
 * behind still gets entries, not a whole snapshot; the store is compacted to the same point
 * (logStartMeta). That point is at or below the state machine's durable index, so a restart
 * replays from there.
 *
 * Until 2026-12-05 the store was compacted to the newest earlier *snapshot* point at least the
 * tail behind: with snapshots every 100,000 entries it kept 100,000-200,000 entries, and each
 * segment roll (a compaction past 16 MiB rewrites what is kept) held the loop (116 and 167 ms
 * in a bench group), and the first durable index compacted nothing (no earlier point known).
 */
import type { RaftLogStorage } from '../../storage/raft-log-storage.js';
import type { RaftCore } from '../types.js';

export class LogCompactor {
  private durable = 0;

  constructor(
    private readonly core: RaftCore,
    private readonly store: RaftLogStorage,
  ) {}

  /** Call after advance(), with the state machine's durable index. */
  onDurable(index: number): void {
    if (index <= this.durable) return;
    this.durable = index;
    this.core.snapshotTaken(index);
    const start = this.core.logStartMeta();
    if (start === null) return;
    if (start.index > index) {
      throw new Error(`raft invariant: log starts at ${start.index}, past durable ${index}`);
    }
    if (start.index <= (this.store.snapshot?.index ?? 0)) return;
    if (start.index <= this.store.lastIndex()) this.store.compact(start);
  }
}
