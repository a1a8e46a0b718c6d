/**
 * Leader side of snapshot streaming: the state machine's bytes go to one peer as Snap messages
 * of at most chunkBytes, with at most windowChunks unacknowledged (flow control). The receiver
 * answers every chunk with SnapResp {index: meta.index, context: the offset it expects next,
 * rejectHint: 1 when the chunk did not fit there}. A misfit moves the stream to that offset:
 * back after a lost chunk, forward on a resume (a receiver that already holds a prefix of the
 * same snapshot answers the first chunk with its length). Without any answer for
 * retransmitMs the unacknowledged chunks are sent again (the last chunk may have been lost).
 * context == length means received, verified and handed to the receiver's core.
 */
import { crc32 } from '../../crc32.js';
import { newMessage } from '../core/index.js';
import { type Message, MessageType, type NodeId, type SnapshotMeta } from '../types.js';

export interface SnapshotSenderOptions {
  id: NodeId;
  send(m: Message): void;
  /** The stream to `to` ended: delivered (ok) or given up. */
  report(to: NodeId, ok: boolean): void;
  chunkBytes?: number;
  windowChunks?: number;
  /** A stream with no acknowledged progress for this long is given up. */
  stallTimeoutMs?: number;
}

interface Stream {
  meta: SnapshotMeta;
  term: number;
  data: Uint8Array;
  checksum: number;
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

  constructor(private readonly o: SnapshotSenderOptions) {
    this.chunkBytes = o.chunkBytes ?? 256 * 1024;
    this.windowChunks = o.windowChunks ?? 4;
    this.stallTimeoutMs = o.stallTimeoutMs ?? 10_000;
  }

  /** Peers a stream is running to (the core waits for the report before asking again). */
  has(to: NodeId): boolean {
    return this.streams.has(to);
  }

  start(to: NodeId, meta: SnapshotMeta, term: number, data: Uint8Array, nowMs: number): void {
    const checksum = crc32(data);
    const s: Stream = {
      meta,
      term,
      data,
      checksum,
      sent: 0,
      acked: 0,
      progressAtMs: nowMs,
      rewoundAtMs: nowMs,
      rewoundTo: -1,
    };
    this.streams.set(to, s);
    this.pump(to, s);
  }

  onResponse(m: Message, nowMs: number): void {
    const s = this.streams.get(m.from);
    if (!s || m.index !== s.meta.index) return;
    if (m.reject) {
      this.finish(m.from, false);
      return;
    }
    const expected = m.context;
    if (expected >= s.data.length) {
      this.finish(m.from, true);
      return;
    }
    if (expected > s.acked) {
      s.acked = expected;
      s.progressAtMs = nowMs;
    }
    const misfit = m.rejectHint === 1;
    if (expected > s.sent) {
      // A resume: answers to the other chunks already in flight will name the same offset.
      s.sent = expected;
      s.rewoundTo = expected;
      s.rewoundAtMs = nowMs;
    } else if (misfit && expected < s.sent) {
      // A chunk was lost: send again from where the receiver is, once per gap.
      if (expected !== s.rewoundTo || nowMs - s.rewoundAtMs >= rewindGapMs) {
        s.sent = expected;
        s.rewoundTo = expected;
        s.rewoundAtMs = nowMs;
      }
    }
    this.pump(m.from, s);
  }

  /** Gives up stalled streams (reported through the callback), resends silent windows. */
  tick(nowMs: number): void {
    for (const [to, s] of this.streams) {
      if (nowMs - s.progressAtMs > this.stallTimeoutMs) this.finish(to, false);
      else if (nowMs - Math.max(s.progressAtMs, s.rewoundAtMs) > retransmitMs && s.sent > s.acked) {
        s.sent = s.acked;
        s.rewoundAtMs = nowMs;
        this.pump(to, s);
      }
    }
  }

  /** Leadership lost or the peer removed: drop streams without reporting (the core forgot). */
  clear(to?: NodeId): void {
    if (to === undefined) this.streams.clear();
    else this.streams.delete(to);
  }

  private finish(to: NodeId, ok: boolean): void {
    this.streams.delete(to);
    this.o.report(to, ok);
  }

  private pump(to: NodeId, s: Stream): void {
    const windowEnd = s.acked + this.windowChunks * this.chunkBytes;
    // An empty state still sends one (empty, done) chunk.
    for (let i = 0; i <= this.windowChunks; i++) {
      if (s.sent >= windowEnd || (s.sent >= s.data.length && s.data.length > 0)) return;
      const end = Math.min(s.data.length, s.sent + this.chunkBytes);
      const m = newMessage(MessageType.Snap, this.o.id, to, s.term, {
        snapshot: {
          meta: s.meta,
          offset: s.sent,
          data: s.data.subarray(s.sent, end),
          done: end === s.data.length,
          checksum: s.checksum,
        },
      });
      this.o.send(m);
      s.sent = end;
      if (end === s.data.length) return;
    }
  }
}
