/**
 * Follower side of snapshot streaming: assembles Snap chunks in order, answers each with the
 * offset it expects next (SnapResp.context), checks the CRC-32 of the whole stream, and hands a
 * complete snapshot to the driver. A partial stream is kept, so a new stream of the same
 * snapshot (same index and checksum) resumes where the last one stopped.
 */
import { crc32Update } from '../../crc32.js';
import { newMessage } from '../core/index.js';
import { type Message, MessageType, type NodeId, type SnapshotMeta } from '../types.js';

export interface ReceivedSnapshot {
  from: NodeId;
  term: number;
  meta: SnapshotMeta;
  data: Uint8Array;
}

interface Partial {
  index: number;
  checksum: number;
  parts: Uint8Array[];
  length: number;
  crc: number;
}

/** Bound on one snapshot held in memory while it arrives. */
const snapshotBytesMax = 2 * 1024 * 1024 * 1024;

export class SnapshotReceiver {
  private partial: Partial | null = null;

  constructor(private readonly id: NodeId) {}

  /**
   * One chunk in; returns the answer to send and, when the stream is complete and verified,
   * the snapshot. A checksum mismatch drops the stream and rejects (the leader retries later).
   */
  onChunk(m: Message): { reply: Message; complete: ReceivedSnapshot | null } {
    const c = m.snapshot!;
    let p = this.partial;
    if (!p || p.index !== c.meta.index || p.checksum !== c.checksum) {
      p = { index: c.meta.index, checksum: c.checksum, parts: [], length: 0, crc: 0 };
      this.partial = p;
    }
    if (c.offset === p.length && p.length + c.data.length <= snapshotBytesMax) {
      // Decoded data are views into the socket's buffer: keep a copy.
      const copy = Uint8Array.from(c.data);
      p.parts.push(copy);
      p.length += copy.length;
      p.crc = crc32Update(p.crc, copy);
      if (c.done) return this.finish(m, p);
      return { reply: this.reply(m, p.length, false), complete: null };
    }
    return { reply: this.reply(m, p.length, false, true), complete: null };
  }

  private finish(m: Message, p: Partial): { reply: Message; complete: ReceivedSnapshot | null } {
    this.partial = null;
    if (p.crc !== p.checksum) return { reply: this.reply(m, 0, true), complete: null };
    const data = concat(p.parts, p.length);
    const c = m.snapshot!;
    return {
      reply: this.reply(m, p.length, false),
      complete: { from: m.from, term: m.term, meta: c.meta, data },
    };
  }

  /** misfit: the chunk was not at the expected offset (lost chunk before it, or a resume). */
  private reply(m: Message, expected: number, reject: boolean, misfit = false): Message {
    return newMessage(MessageType.SnapResp, this.id, m.from, m.term, {
      index: m.snapshot!.meta.index,
      context: expected,
      reject,
      rejectHint: misfit ? 1 : 0,
    });
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
