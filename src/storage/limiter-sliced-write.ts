import type {
  DeferredSnapshotSource,
  SnapshotOp,
  SnapshotWriter,
  StateRecord,
  StateRecordId,
} from '../limiter/types.js';
import type { LimiterSnapshotStore } from './limiter-snapshot-store.js';

/** Records written between two clock checks (a clock read per record would cost more). */
const RECORDS_PER_CHECK_DEFAULT = 64;

/**
 * A snapshot written to the store a slice at a time. The engine writes into this object
 * synchronously (capture: copies of the dirty records, cheap), then `step` moves the captured
 * records into one store transaction for at most about `budgetMs` per call, so the caller can
 * yield to the event loop between slices; the last step commits (the applied index and the
 * records become durable together). The engine's later changes do not touch the captured
 * copies, and they are marked dirty again for the next snapshot. `deferred` writes the engine's
 * copy-on-write snapshot instead (captureSnapshot): its window records are encoded in the slices
 * too, so the capture turn does no per-key work at all.
 */
export class SlicedSnapshotWrite implements SnapshotWriter {
  index = -1;
  mode: 'full' | 'incremental' = 'incremental';
  private readonly ops: SnapshotOp[] = [];
  private captured = false;
  private started = false;
  private at = 0;
  /** How long the final commit took (WAL write, and a checkpoint when one is due). */
  commitMs = 0;
  private source: DeferredSnapshotSource | null = null;
  private sourceDone = false;

  /** A write of the engine's deferred snapshot (its records are read during the steps). */
  static deferred(source: DeferredSnapshotSource): SlicedSnapshotWrite {
    const write = new SlicedSnapshotWrite();
    write.begin(source.index, 'incremental');
    write.source = source;
    write.captured = true;
    return write;
  }

  begin(appliedIndex: number, mode: 'full' | 'incremental'): void {
    this.index = appliedIndex;
    this.mode = mode;
  }

  put(record: StateRecord): void {
    this.ops.push({ put: record });
  }

  delete(id: StateRecordId): void {
    this.ops.push({ del: id });
  }

  commit(): void {
    this.captured = true;
  }

  /** Records to write (a deferred snapshot's count is an upper bound). */
  get records(): number {
    return this.ops.length + (this.source?.records ?? 0);
  }

  /** Dropped before its commit: a deferred snapshot stops its copy-on-write. */
  release(): void {
    this.source?.release();
  }

  /**
   * Writes for about budgetMs (Infinity: to the end), at least `recordsPerCheck` records;
   * true once committed.
   */
  step(
    store: LimiterSnapshotStore,
    budgetMs: number,
    recordsPerCheck = RECORDS_PER_CHECK_DEFAULT,
  ): boolean {
    if (!this.captured) throw new Error('sliced snapshot: step before the capture committed');
    if (!this.started) {
      store.begin(this.index, this.mode);
      this.started = true;
    }
    const endMs = performance.now() + budgetMs;
    const ops = this.ops;
    while (this.at < ops.length) {
      const op = ops[this.at++]!;
      if (op.put) store.put(op.put);
      else store.delete(op.del);
      if (this.at % recordsPerCheck === 0 && performance.now() >= endMs) return false;
    }
    const source = this.source;
    while (source !== null && !this.sourceDone) {
      this.sourceDone = source.writeSome(store, recordsPerCheck);
      if (!this.sourceDone && performance.now() >= endMs) return false;
    }
    const commitStartMs = performance.now();
    store.commit();
    this.commitMs = performance.now() - commitStartMs;
    return true;
  }
}
