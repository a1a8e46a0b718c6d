/**
 * Follower side of snapshot streaming: assembles Snap chunks in order straight into a file in
 * the data directory (a snapshot is never held in memory), answers each with the offset it
 * expects next (SnapResp.context), checks the CRC-32 of the whole stream carried by the final
 * chunk, and hands a complete snapshot (sealed on disk, see staged-snapshot.ts) to the driver.
 * A partial stream is kept, so a new stream of the same snapshot from the same leader (same
 * index and term) resumes where the last one stopped; should the resumed bytes differ, the
 * CRC fails and the leader starts over.
 */
import { crc32Update } from '../../crc32.js';
import { newMessage } from '../core/index.js';
import { type Message, MessageType, type NodeId, type SnapshotMeta } from '../types.js';
import { ReceivingSnapshotFile, removeReceivingSnapshot } from './staged-snapshot.js';

export interface ReceivedSnapshot {
  from: NodeId;
  term: number;
  meta: SnapshotMeta;
  /** Bytes of state machine data, in the "received" file of the data directory. */
  length: number;
}

interface Partial {
  from: NodeId;
  index: number;
  metaTerm: number;
  file: ReceivingSnapshotFile;
  length: number;
  crc: number;
}

/** Bound on one snapshot's size. */
const snapshotBytesMax = 16 * 1024 * 1024 * 1024;

export class SnapshotReceiver {
  private partial: Partial | null = null;

  constructor(
    private readonly id: NodeId,
    private readonly dir: string,
  ) {
    removeReceivingSnapshot(dir);
  }

  /**
   * One chunk in; returns the answer to send and, when the stream is complete and verified,
   * the snapshot. A checksum mismatch drops the stream and rejects (the leader retries later).
   */
  onChunk(m: Message): { reply: Message; complete: ReceivedSnapshot | null } {
    const c = m.snapshot!;
    let p = this.partial;
    if (!p || p.index !== c.meta.index || p.metaTerm !== c.meta.term || p.from !== m.from) {
      p?.file.discard();
      // A stream that starts past 0 for a snapshot we hold nothing of is answered "from 0".
      p = {
        from: m.from,
        index: c.meta.index,
        metaTerm: c.meta.term,
        file: new ReceivingSnapshotFile(this.dir, c.meta),
        length: 0,
        crc: 0,
      };
      this.partial = p;
    }
    const end = c.offset + c.data.length;
    if (c.done && end < p.length) {
      // A shorter stream than the prefix we hold: that prefix came from other bytes.
      return this.fail(m, p);
    }
    if (c.offset === p.length && end <= snapshotBytesMax) {
      p.file.append(c.data);
      p.length = end;
      p.crc = crc32Update(p.crc, c.data);
      if (c.done) return this.finish(m, p);
      return { reply: this.reply(m, p.length, false), complete: null };
    }
    return { reply: this.reply(m, p.length, false, true), complete: null };
  }

  private finish(m: Message, p: Partial): { reply: Message; complete: ReceivedSnapshot | null } {
    const c = m.snapshot!;
    if (p.crc !== c.checksum) return this.fail(m, p);
    this.partial = null;
    p.file.seal(p.crc);
    return {
      reply: this.reply(m, p.length, false),
      complete: { from: m.from, term: m.term, meta: c.meta, length: p.length },
    };
  }

  private fail(m: Message, p: Partial): { reply: Message; complete: null } {
    this.partial = null;
    p.file.discard();
    return { reply: this.reply(m, 0, true), complete: null };
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
