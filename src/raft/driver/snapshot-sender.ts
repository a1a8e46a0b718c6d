/**
 * Leader side of snapshot streaming: a state machine's SnapshotSource goes to one peer as Snap
 * messages of at most chunkBytes, with at most windowChunks unacknowledged (flow control). The
 * source is pulled a piece at a time between event-loop turns (for at most fillBudgetMs per
 * turn), so a big snapshot never blocks the leader's loop; only the unacknowledged window is
 * held in memory. The CRC-32 of the whole stream is computed as it is produced and travels on
 * the final chunk (done; earlier chunks carry checksum 0).
 *
 * The receiver answers every chunk with SnapResp {index: meta.index, context: the offset it
 * expects next, rejectHint: 1 when the chunk did not fit there}. A misfit moves the stream to
 * that offset: back after a lost chunk (resent from the window), forward on a resume (a receiver
 * that already holds a prefix of a stream of the same snapshot answers the first chunk with its
 * length; the sender then produces and skips up to there). Without any answer for retransmitMs
 * the unacknowledged chunks are sent again. context == length of a finished stream means
 * received, verified and handed to the receiver's core. A receiver asking for bytes before the
 * window (it lost its partial stream) ends the stream as failed; the core asks again later.
 */
import { crc32Update } from '../../crc32.js';
import { newMessage } from '../core/index.js';
import { type Message, MessageType, type NodeId, type SnapshotMeta } from '../types.js';
import type { SnapshotSource } from './state-machine.js';

export interface SnapshotSenderOptions {
  id: NodeId;
  send(m: Message): void;
  /** The stream to `to` ended: delivered (ok) or given up. */
  report(to: NodeId, ok: boolean): void;
  chunkBytes?: number;
  windowChunks?: number;
  /** A stream with no acknowledged progress for this long is given up. */
  stallTimeoutMs?: number;
  /** Longest time one event-loop turn spends producing snapshot bytes. */
  fillBudgetMs?: number;
  /** A source threw while producing bytes (the stream is then reported failed). */
  onSourceError?: (to: NodeId, err: unknown) => void;
  /** Schedules the next fill turn (tests pass a synchronous queue). Default setImmediate. */
  defer?: (fn: () => void) => void;
}

interface Chunk {
  offset: number;
  data: Uint8Array;
  done: boolean;
}

interface Stream {
  meta: SnapshotMeta;
  term: number;
  source: SnapshotSource;
  /** Produced, not yet acknowledged chunks, in offset order (contiguous). */
  chunks: Chunk[];
  /** Bytes produced from the source (skipped ones included). */
  produced: number;
  /** Pieces produced but not yet cut into a chunk. */
  pending: Uint8Array[];
  pendingBytes: number;
  crc: number;
  /** The final chunk was produced; `produced` is the stream's length. */
  ended: boolean;
  /** Bytes below this offset are produced (CRC) but not kept: the receiver already holds them. */
  skipTo: number;
  filling: boolean;
  /** Next offset to send. */
  sent: number;
  /** Highest offset the receiver confirmed. */
  acked: number;
  progressAtMs: number;
  rewoundAtMs: number;
  rewoundTo: number;
}

/** Misfit answers to the same offset within this long are answers to chunks already resent. */
const rewindGapMs = 1000;
const retransmitMs = 1000;

export class SnapshotSender {
  private readonly streams = new Map<NodeId, Stream>();
  private readonly chunkBytes: number;
  private readonly windowChunks: number;
  private readonly stallTimeoutMs: number;
  private readonly fillBudgetMs: number;
  private readonly defer: (fn: () => void) => void;

  constructor(private readonly o: SnapshotSenderOptions) {
    this.chunkBytes = o.chunkBytes ?? 256 * 1024;
    this.windowChunks = o.windowChunks ?? 4;
    this.stallTimeoutMs = o.stallTimeoutMs ?? 10_000;
    this.fillBudgetMs = o.fillBudgetMs ?? 2;
    this.defer = o.defer ?? ((fn) => setImmediate(fn));
  }

  /** Peers a stream is running to (the core waits for the report before asking again). */
  has(to: NodeId): boolean {
    return this.streams.has(to);
  }

  /** Streams `source` (whose index is meta.index) to `to`; the sender closes the source. */
  start(to: NodeId, meta: SnapshotMeta, term: number, source: SnapshotSource, nowMs: number): void {
    if (source.index !== meta.index) {
      source.close();
      throw new Error(`snapshot sender: source at ${source.index} for snapshot ${meta.index}`);
    }
    this.clear(to);
    const s: Stream = {
      meta,
      term,
      source,
      chunks: [],
      produced: 0,
      pending: [],
      pendingBytes: 0,
      crc: 0,
      ended: false,
      skipTo: 0,
      filling: false,
      sent: 0,
      acked: 0,
      progressAtMs: nowMs,
      rewoundAtMs: nowMs,
      rewoundTo: -1,
    };
    this.streams.set(to, s);
    this.scheduleFill(to, s);
  }

  onResponse(m: Message, nowMs: number): void {
    const s = this.streams.get(m.from);
    if (!s || m.index !== s.meta.index) return;
    if (m.reject) {
      this.finish(m.from, s, false);
      return;
    }
    const expected = m.context;
    const misfit = m.rejectHint === 1;
    if (s.ended && expected >= s.produced) {
      // Past the end on a misfit: the receiver holds a longer stream of another snapshot.
      this.finish(m.from, s, expected === s.produced && !misfit);
      return;
    }
    if (expected < s.acked) {
      // The receiver lost what it had acknowledged (restarted): start over with a new stream.
      this.finish(m.from, s, false);
      return;
    }
    if (expected > s.acked) {
      s.acked = expected;
      s.progressAtMs = nowMs;
      while (s.chunks.length > 0 && chunkEnd(s.chunks[0]!) <= expected) s.chunks.shift();
    }
    if (expected > s.sent) {
      // A resume: answers to the other chunks already in flight will name the same offset.
      s.sent = expected;
      s.rewoundTo = expected;
      s.rewoundAtMs = nowMs;
      if (expected > s.produced) {
        s.skipTo = expected;
        s.chunks = [];
        s.pending = [];
        s.pendingBytes = 0;
      }
    } else if (misfit && expected < s.sent) {
      // A chunk was lost: send again from where the receiver is, once per gap.
      if (expected !== s.rewoundTo || nowMs - s.rewoundAtMs >= rewindGapMs) {
        s.sent = expected;
        s.rewoundTo = expected;
        s.rewoundAtMs = nowMs;
      }
    }
    this.pump(m.from, s);
    this.scheduleFill(m.from, s);
  }

  /** Gives up stalled streams (reported through the callback), resends silent windows. */
  tick(nowMs: number): void {
    for (const [to, s] of this.streams) {
      if (nowMs - s.progressAtMs > this.stallTimeoutMs) this.finish(to, s, false);
      else if (nowMs - Math.max(s.progressAtMs, s.rewoundAtMs) > retransmitMs && s.sent > s.acked) {
        s.sent = s.acked;
        s.rewoundAtMs = nowMs;
        this.pump(to, s);
      }
    }
  }

  /** Leadership lost or the peer removed: drop streams without reporting (the core forgot). */
  clear(to?: NodeId): void {
    for (const [id, s] of this.streams) {
      if (to !== undefined && id !== to) continue;
      this.streams.delete(id);
      s.source.close();
    }
  }

  private finish(to: NodeId, s: Stream, ok: boolean): void {
    this.streams.delete(to);
    s.source.close();
    this.o.report(to, ok);
  }

  private scheduleFill(to: NodeId, s: Stream): void {
    if (s.filling || !this.wantsMore(s)) return;
    s.filling = true;
    this.defer(() => {
      s.filling = false;
      if (this.streams.get(to) !== s) return;
      try {
        this.fill(s);
      } catch (err) {
        // The source failed (a read error): give the stream up, the core asks again later.
        this.o.onSourceError?.(to, err);
        this.finish(to, s, false);
        return;
      }
      this.pump(to, s);
      this.scheduleFill(to, s);
    });
  }

  /** More chunks are needed to fill the window (or to reach a resume point). */
  private wantsMore(s: Stream): boolean {
    if (s.ended) return false;
    const held = s.produced - s.pendingBytes - Math.max(s.acked, s.skipTo);
    return s.produced < s.skipTo || held < this.windowChunks * this.chunkBytes;
  }

  /** Pulls pieces from the source for at most fillBudgetMs, cutting them into chunks. */
  private fill(s: Stream): void {
    const endMs = performance.now() + this.fillBudgetMs;
    while (this.wantsMore(s)) {
      const piece = s.source.next();
      if (piece === null) {
        this.cut(s, true);
        s.source.close();
        return;
      }
      this.take(s, piece);
      if (performance.now() >= endMs) return;
    }
  }

  private take(s: Stream, piece: Uint8Array): void {
    s.crc = crc32Update(s.crc, piece);
    const start = s.produced;
    s.produced += piece.length;
    if (s.produced <= s.skipTo) return;
    // Keep only what lies at or past skipTo; the source reuses no buffers it returned.
    const kept = start < s.skipTo ? piece.subarray(s.skipTo - start) : piece;
    s.pending.push(kept);
    s.pendingBytes += kept.length;
    // Strictly more than a chunk: the final chunk always holds the last bytes (it is never an
    // empty chunk after the data), so an answer naming the stream's length answers that chunk.
    while (s.pendingBytes > this.chunkBytes) this.cut(s, false);
  }

  /** Makes the next chunk from pending bytes (all of them when final). */
  private cut(s: Stream, final: boolean): void {
    const size = final ? s.pendingBytes : this.chunkBytes;
    const data = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const head = s.pending[0]!;
      const n = Math.min(head.length, size - at);
      data.set(head.subarray(0, n), at);
      at += n;
      if (n === head.length) s.pending.shift();
      else s.pending[0] = head.subarray(n);
    }
    s.pendingBytes -= size;
    const offset = s.produced - s.pendingBytes - size;
    s.chunks.push({ offset, data, done: final });
    if (final) s.ended = true;
  }

  private pump(to: NodeId, s: Stream): void {
    const windowEnd = s.acked + this.windowChunks * this.chunkBytes;
    for (const c of s.chunks) {
      if (s.sent >= windowEnd) return;
      const end = chunkEnd(c);
      if (end <= s.sent) continue;
      // After a rewind or resume the stream may restart inside a chunk.
      const from = Math.max(s.sent, c.offset);
      this.o.send(
        newMessage(MessageType.Snap, this.o.id, to, s.term, {
          snapshot: {
            meta: s.meta,
            offset: from,
            data: c.data.subarray(from - c.offset),
            done: c.done,
            checksum: c.done ? s.crc : 0,
          },
        }),
      );
      s.sent = end;
      if (c.done) return;
    }
  }
}

/** One past the final chunk's last byte, so that "sent" tells whether it left (even empty). */
function chunkEnd(c: Chunk): number {
  return c.offset + c.data.length + (c.done ? 1 : 0);
}
