import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite WAL (the Raft log's, a node's limiter state's) from a worker thread, so
 * the event loop that commits never runs one. With SQLite's automatic checkpoint, every Nth
 * commit copied the WAL into the database file and fsynced it inside the commit, on the main
 * thread: measured here 3-20 ms per 1,000 commits' worth of frames, a stall of every request in
 * flight at that moment (the bench's commit p99 at 10,000/s was tens of ms while a plain WAL
 * fsync was ~0.4 ms).
 *
 * The worker has its own connection to the same file (WAL mode allows it: a PASSIVE checkpoint
 * takes no lock a writer needs). The WAL restarts from its beginning (overwritten in place,
 * not grown: new blocks make every fdatasync commit metadata too) at the first commit after a
 * checkpoint that caught up with every frame. Commits arriving back to back can keep the worker
 * from ever catching up; then, once the WAL is past `restartFrames`, the committing thread runs
 * one PASSIVE checkpoint itself between two commits: the worker already copied all but the last
 * few frames, so it costs one database fsync, not a bulk copy, and it always catches up.
 *
 * Worker -> main status goes through shared memory, not messages: a caller that commits in a
 * synchronous loop (never yielding to the event loop) still sees the worker go idle.
 */
/** The caller's automatic checkpoint while the worker runs: a backstop should it stall. */
export const WAL_AUTOCHECKPOINT_BACKSTOP_PAGES = 40_000;
/** SQLite's default, what the caller goes back to once the worker failed (see fallBack). */
export const WAL_AUTOCHECKPOINT_FALLBACK_PAGES = 1000;

export interface CheckpointerOptions {
  /** At most one checkpoint per interval (each fsyncs the database file). */
  intervalMs?: number;
  /** WAL frames (pages) beyond which the WAL must restart (see above). */
  restartFrames?: number;
  warn?: (message: string) => void;
  /**
   * Called once, by the first afterCommit after the worker failed: the caller turns SQLite's
   * automatic checkpoint back on (WAL_AUTOCHECKPOINT_FALLBACK_PAGES) on its own connection.
   */
  fallBack?: () => void;
}

export interface CheckpointerStats {
  checkpoints: number;
  /** Catch-up checkpoints the caller's thread ran itself (commits kept overtaking the worker). */
  mainCheckpoints: number;
  /** WAL size in frames at the worker's last checkpoint (0 after a catch-up). */
  walFrames: number;
  /** Duration of the worker's last checkpoint. */
  lastMs: number;
  /** Duration of the last catch-up checkpoint on the caller's thread. */
  lastMainMs: number;
}

/**
 * Each checkpoint costs the worker two fsyncs (WAL, then database file: ~0.2 ms of CPU each on
 * this VM's virtio disk) and a wake-up, whatever it copies; the pages it copies are nearly all
 * distinct at any interval (the log appends). 50 ms made the worker ~3-5 µs of CPU per entry
 * at 3,500 entries/s; 250 ms ~1 µs (bench/raft-store-cpu.ts, docs/notes/raft-io.md 2026-12-04),
 * while the WAL between two restarts stays ~0.5 MB at that rate.
 */
const INTERVAL_MS_DEFAULT = 250;
const RESTART_FRAMES_DEFAULT = 4000;
/** How long close() waits for the worker to close its connection. */
const CLOSE_WAIT_MS_MAX = 2000;
/** Extra PASSIVE passes when a commit overtook the first one. */
const PASSIVE_RETRIES = 4;

// Slots of the shared status array.
const STATE = 0;
const WAL_FRAMES = 1;
const CHECKPOINTS = 2;
const MAIN_CHECKPOINTS = 3;
const LAST_US = 4;
const SLOTS = 5;
const IDLE = 0;
const BUSY = 1;
const CLOSED = 2;

/**
 * CommonJS source evaluated in the worker: no module file to locate, so it runs the same from
 * src/ under tsx and from dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const s = new Int32Array(workerData.status);
let db = null;
function finish(state) { Atomics.store(s, ${STATE}, state); Atomics.notify(s, ${STATE}); }
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { if (db) db.close(); } finally { finish(${CLOSED}); parentPort.close(); }
    return;
  }
  const t = performance.now();
  try {
    if (!db) {
      db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
      // The database file is fsynced before the WAL frames copied into it may be overwritten.
      db.pragma('synchronous = FULL');
    }
    let r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    // A pass that caught up with every frame lets the next commit restart the WAL; one that a
    // commit overtook is retried (only that commit's frames are left to copy).
    for (let i = 0; i < ${PASSIVE_RETRIES} && r.log > workerData.restartFrames && r.checkpointed < r.log; i++) {
      r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    }
    Atomics.store(s, ${WAL_FRAMES}, r.log);
    Atomics.add(s, ${CHECKPOINTS}, 1);
  } catch (err) {
    parentPort.postMessage(String(err && err.message ? err.message : err));
  }
  Atomics.store(s, ${LAST_US}, Math.round((performance.now() - t) * 1000));
  finish(${IDLE});
});
`;

export class WalCheckpointer {
  private readonly intervalMs: number;
  private readonly restartFrames: number;
  private readonly status = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private worker: Worker | null = null;
  private lastRequestMs = performance.now();
  private lastMainMs = 0;
  private failed = false;
  private fellBack = false;
  private closed = false;

  constructor(
    private readonly path: string,
    /** Runs a PASSIVE checkpoint on the caller's connection (the catch-up). */
    private readonly checkpointHere: () => void,
    private readonly options: CheckpointerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? INTERVAL_MS_DEFAULT;
    this.restartFrames = options.restartFrames ?? RESTART_FRAMES_DEFAULT;
  }

  /** False once the worker failed: the caller falls back to SQLite's automatic checkpoints. */
  get usable(): boolean {
    return !this.failed && !this.closed;
  }

  /**
   * Called after every commit: starts a checkpoint when the worker is idle and the interval
   * has passed. The worker is only spawned by the first one (short-lived stores never pay).
   */
  afterCommit(): void {
    if (!this.usable) {
      if (this.failed && !this.fellBack) {
        this.fellBack = true;
        this.options.fallBack?.();
      }
      return;
    }
    const now = performance.now();
    if (now - this.lastRequestMs < this.intervalMs) return;
    if (Atomics.load(this.status, STATE) !== IDLE) return;
    if (Atomics.load(this.status, WAL_FRAMES) > this.restartFrames) {
      this.checkpointHere();
      this.lastMainMs = performance.now() - now;
      Atomics.store(this.status, WAL_FRAMES, 0);
      Atomics.add(this.status, MAIN_CHECKPOINTS, 1);
    }
    this.lastRequestMs = now;
    Atomics.store(this.status, STATE, BUSY);
    try {
      this.worker ??= this.spawn();
      this.worker.postMessage('checkpoint');
    } catch (err) {
      // The commit that called us succeeded; only the checkpointing falls back.
      this.fail(`checkpoint worker unavailable: ${(err as Error).message}`);
    }
  }

  stats(): CheckpointerStats {
    return {
      checkpoints: Atomics.load(this.status, CHECKPOINTS),
      mainCheckpoints: Atomics.load(this.status, MAIN_CHECKPOINTS),
      walFrames: Atomics.load(this.status, WAL_FRAMES),
      lastMs: Atomics.load(this.status, LAST_US) / 1000,
      lastMainMs: this.lastMainMs,
    };
  }

  /**
   * Closes the worker's connection before returning, so the caller's connection closes last
   * (SQLite then checkpoints and removes the WAL as before) and nothing touches the file after.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker || this.failed) return;
    worker.postMessage('close');
    // A checkpoint in progress finishes first (IDLE), then the close (CLOSED).
    const deadline = performance.now() + CLOSE_WAIT_MS_MAX;
    for (;;) {
      const state = Atomics.load(this.status, STATE);
      const leftMs = deadline - performance.now();
      if (state === CLOSED) return;
      if (leftMs <= 0) break;
      Atomics.wait(this.status, STATE, state, leftMs);
    }
    this.options.warn?.(`${this.path}: checkpoint worker did not close in time`);
    void worker.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path: this.path,
        sqlitePath: createRequire(import.meta.url).resolve('better-sqlite3'),
        status: this.status.buffer,
        restartFrames: this.restartFrames,
      },
    });
    // Never keeps the process alive; close() ends it.
    worker.unref();
    worker.on('message', (m: string) => {
      this.options.warn?.(`${this.path}: WAL checkpoint failed: ${m}`);
    });
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(`checkpoint worker exited with ${code}`);
    });
    return worker;
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.warn?.(`${this.path}: ${why}; back to SQLite's automatic checkpoints`);
  }
}
