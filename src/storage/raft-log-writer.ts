import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { StateRow } from './raft-log-schema.js';
import { INSERT_ROW_COUNTS, RAFT_LOG_WRITE_SQL, STATE_COLUMNS } from './raft-log-sql.js';

/**
 * The Raft log's write connection in a worker thread (async storage writes, as etcd's): the
 * event loop that steps messages, sends and applies is never blocked by an insert or an fsync.
 * RaftLogStore plans every write on the calling thread (validation, in-memory view, CRCs, the
 * state row) and posts it here as a list of SQL operations; the worker runs each post as one
 * transaction, in order, and answers when it is durable (synchronous=FULL) or failed.
 *
 * Entry rows travel packed (one Float64Array of numbers and one byte blob, both transferred),
 * so a 16k-entry batch is two buffers, not 16k cloned objects.
 */
export type WriteOp =
  | { k: 'deleteAll' }
  | { k: 'deleteFrom'; index: number }
  /** Rows (after, upTo]. */
  | { k: 'deleteRange'; after: number; upTo: number }
  /** Rows [from, from + count) of the post's packed rows. */
  | { k: 'rows'; from: number; count: number }
  | { k: 'state'; row: StateRow }
  | { k: 'checkpoint' };

/** Numbers per packed row: idx, term, type, crc, batch, data offset, data length. */
export const ROW_FIELDS = 7;

export interface WritePost {
  ops: WriteOp[];
  /** synchronous=FULL (fsync at commit) or NORMAL (compaction, the commit index at close). */
  full: boolean;
  rows: Float64Array;
  blob: Uint8Array;
}

export interface WriteDone {
  error: Error | null;
  ms: number;
}

const STATE = 0;
const OPEN = 0;
const CLOSED = 1;
/** How long close() waits for the worker to finish its queue and close its connection. */
const CLOSE_WAIT_MS_MAX = 10_000;

/** CommonJS evaluated in the worker (runs the same from src/ under tsx and from dist/). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlitePath);
const s = new Int32Array(workerData.status);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 5000 });
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = ' + workerData.autocheckpointPages);
let full = true;
const sql = ${JSON.stringify(RAFT_LOG_WRITE_SQL)};
const stateColumns = ${JSON.stringify(STATE_COLUMNS)};
const insertRowCounts = ${JSON.stringify(INSERT_ROW_COUNTS)};
const st = {
  insert: sql.insert.map((text) => db.prepare(text)),
  deleteFrom: db.prepare(sql.deleteFrom),
  deleteRange: db.prepare(sql.deleteRange),
  deleteAll: db.prepare(sql.deleteAll),
  state: db.prepare(sql.writeState),
};
function push(p, rows, blob, r) {
  const o = r * ${ROW_FIELDS};
  const data = Buffer.from(blob.buffer, blob.byteOffset + rows[o + 5], rows[o + 6]);
  p.push(rows[o], rows[o + 1], rows[o + 2], data, rows[o + 3], rows[o + 4]);
}
// The same pieces as RaftLogStore.insertRows: 64-row statements, then the remainder in binary
// pieces (INSERT_ROW_COUNTS).
function insert(rows, blob, from, count) {
  const p = [];
  let r = from;
  const end = from + count;
  for (let s = 0; s < insertRowCounts.length; s++) {
    const n = insertRowCounts[s];
    for (; r + n <= end; r += n) {
      p.length = 0;
      for (let j = r; j < r + n; j++) push(p, rows, blob, j);
      st.insert[s].run(p);
    }
  }
  if (r !== end) throw new Error('raft log writer: rows left unwritten');
}
const tx = db.transaction((m) => {
  for (const op of m.ops) {
    if (op.k === 'rows') insert(m.rows, m.blob, op.from, op.count);
    else if (op.k === 'deleteFrom') st.deleteFrom.run(op.index);
    else if (op.k === 'deleteRange') st.deleteRange.run(op.after, op.upTo);
    else if (op.k === 'deleteAll') st.deleteAll.run();
    else if (op.k === 'state') st.state.run(stateColumns.map((c) => op.row[c]));
  }
});
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { db.close(); } finally { Atomics.store(s, ${STATE}, ${CLOSED}); Atomics.notify(s, ${STATE}); parentPort.close(); }
    return;
  }
  const t = performance.now();
  try {
    if (m.ops.length === 1 && m.ops[0].k === 'checkpoint') {
      db.pragma('wal_checkpoint(PASSIVE)');
    } else {
      if (m.full !== full) { db.pragma(m.full ? 'synchronous = FULL' : 'synchronous = NORMAL'); full = m.full; }
      tx(m);
    }
    parentPort.postMessage({ ms: performance.now() - t, error: null });
  } catch (err) {
    parentPort.postMessage({ ms: performance.now() - t, error: String(err && err.message ? err.message : err) });
  }
});
`;

export class RaftLogWriter {
  private readonly status = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  /** Callbacks of posts not answered yet, in post order (the worker answers in order). */
  private readonly waiting: ((done: WriteDone) => void)[] = [];
  private failure: Error | null = null;
  private closed = false;
  private exited = false;

  constructor(
    private readonly path: string,
    autocheckpointPages: number,
    private readonly warn?: (message: string) => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path,
        sqlitePath: createRequire(import.meta.url).resolve('better-sqlite3'),
        status: this.status.buffer,
        autocheckpointPages,
      },
    });
    // Never keeps the process alive by itself: the node's sockets and timers do, and a write
    // whose answer never comes was never acknowledged.
    this.worker.unref();
    this.worker.on('message', (m: { ms: number; error: string | null }) => {
      if (this.closed) return; // close() dropped the callbacks: the caller is gone
      const cb = this.waiting.shift();
      if (!cb) throw new Error('raft log writer invariant: an answer without a post');
      const error = m.error === null ? null : new Error(`${this.path}: ${m.error}`);
      if (error) this.failure ??= error;
      cb({ error, ms: m.ms });
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (!this.closed) this.failAll(new Error(`${this.path}: log writer exited with ${code}`));
    });
  }

  /** Writes not answered yet. */
  get inFlight(): number {
    return this.waiting.length;
  }

  /** Queues one transaction; `done` runs on this thread once it is durable (or failed). */
  post(p: WritePost, done: (d: WriteDone) => void): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`${this.path}: log writer closed`);
    this.waiting.push(done);
    this.worker.postMessage(p, [p.rows.buffer as ArrayBuffer, p.blob.buffer as ArrayBuffer]);
  }

  /**
   * Blocks until the worker finished every queued write and closed its connection, so the
   * caller's connection closes last (SQLite then checkpoints and removes the WAL). Answers of
   * writes still queued are not delivered: the caller is closing.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting.length = 0;
    if (this.exited) return;
    this.worker.postMessage('close');
    const deadline = performance.now() + CLOSE_WAIT_MS_MAX;
    while (Atomics.load(this.status, STATE) === OPEN) {
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) {
        this.warn?.(`${this.path}: log writer did not close in time`);
        void this.worker.terminate();
        return;
      }
      Atomics.wait(this.status, STATE, OPEN, leftMs);
    }
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    const cbs = this.waiting.splice(0);
    for (const cb of cbs) cb({ error: err, ms: 0 });
  }
}
