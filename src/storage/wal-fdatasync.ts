import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, statSync } from 'node:fs';
import { DrlError } from '../errors.js';

/** Called once an fdatasync of the WAL finished (error null) or failed. */
export type SyncDone = (error: Error | null, durationMs: number) => void;

/** fdatasyncs running at once; more means the caller forgot to wait for one. */
const SYNCS_IN_FLIGHT_MAX = 64;

/**
 * Makes a SQLite WAL durable from libuv's thread pool instead of the calling thread: the store
 * commits with synchronous=NORMAL (frames written to the page cache, no fsync on the event
 * loop), then `sync()` runs fdatasync on the WAL file off the loop and calls back once done.
 * What that gives is synchronous=FULL's guarantee for every transaction committed before
 * `sync()` was called: fsync works on the inode, so a descriptor of our own flushes the frames
 * SQLite's connection wrote, and the WAL's frame checksums make recovery drop a transaction
 * whose frames did not all reach the disk (a crash before the callback loses at most what was
 * not acknowledged yet). Checkpoints keep their own fsyncs at NORMAL (WAL before the copy,
 * database after it, the WAL header after a restart), so the database file never depends on us.
 *
 * The WAL file keeps its inode while a connection is open (SQLite restarts it by overwriting,
 * and deletes it only when the last connection closes), so the descriptor stays valid for the
 * store's life; open() checks that it names the file SQLite uses.
 */
export class WalFdatasync {
  private fd: number;
  private closing = false;
  private readonly walPath: string;
  /** Syncs posted and not answered, oldest first, with their sequence numbers and start times. */
  private readonly waiting: { seq: number; startedMs: number; done: SyncDone }[] = [];
  private posted = 0;
  /** fdatasync calls still running on the pool (some answered early by a later one). */
  private running = 0;

  constructor(databasePath: string) {
    this.walPath = `${databasePath}-wal`;
    // 'r+' and not 'r': fdatasync on a read-only descriptor is allowed by Linux but not by
    // every platform, and SQLite already holds the file open read-write.
    this.fd = openSync(this.walPath, 'r+');
    if (fstatSync(this.fd).ino !== statSync(this.walPath).ino) {
      closeSync(this.fd);
      throw new DrlError('internal', `${this.walPath}: the WAL changed while it was opened`);
    }
  }

  /** Syncs posted and not answered yet. */
  get pending(): number {
    return this.waiting.length;
  }

  /**
   * fdatasync of the WAL on the thread pool; `done` runs on this thread once it finished.
   * Answers come in the order the syncs were posted: the pool may finish a later fdatasync
   * first, and since it started after every earlier commit it answers those too.
   */
  sync(done: SyncDone): void {
    if (this.closing) throw new DrlError('internal', `${this.walPath}: sync after close`);
    if (this.running >= SYNCS_IN_FLIGHT_MAX) {
      throw new DrlError('internal', `${this.walPath}: ${this.running} WAL syncs in flight`);
    }
    const seq = ++this.posted;
    this.waiting.push({ seq, startedMs: performance.now(), done });
    this.running++;
    fdatasync(this.fd, (err) => {
      this.running--;
      if (this.closing && this.running === 0) this.closeFd();
      this.answerUpTo(seq, err);
    });
  }

  /** Answers every sync posted up to `seq` that is still waiting, oldest first. */
  private answerUpTo(seq: number, err: Error | null): void {
    const nowMs = performance.now();
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.seq <= seq) n++;
    for (const w of this.waiting.splice(0, n)) w.done(err, nowMs - w.startedMs);
  }

  /** One fdatasync on this thread (close, and batches that must be durable on return). */
  syncHere(): void {
    fdatasyncSync(this.fd);
  }

  /**
   * Closes the descriptor, after the syncs in flight if any (their callbacks still run).
   * Syncs once more first, so that whatever was committed before close() is durable.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    try {
      fdatasyncSync(this.fd);
    } finally {
      // A failed last sync still releases the descriptor (the caller reports the error).
      if (this.running === 0) this.closeFd();
    }
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
