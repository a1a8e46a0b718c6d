import { CodecError } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';

/**
 * Frame = u32 LE length of what follows | u8 version | u8 kind | payload.
 * The version byte lets a future node refuse (or translate) frames it does not understand.
 */
export const WIRE_VERSION = 1;
export const FRAME_HEADER_BYTES = 6;

export const enum FrameKind {
  /** server -> client: server id, server nonce */
  Hello = 1,
  /** client -> server: client id, client nonce, mac */
  Auth = 2,
  /** server -> client: mac over the client's nonce (mutual authentication) */
  AuthOk = 3,
  /** client -> server: one Raft message */
  Message = 4,
}

/** Starts a frame in `w`; returns the offset to pass to endFrame once the payload is written. */
export function beginFrame(w: ByteWriter, kind: FrameKind): number {
  const start = w.length;
  w.ensure(FRAME_HEADER_BYTES);
  w.length += 4;
  w.u8(WIRE_VERSION);
  w.u8(kind);
  return start;
}

export function endFrame(w: ByteWriter, start: number): void {
  w.buf.writeUInt32LE(w.length - start - 4, start);
}

export interface Frame {
  kind: FrameKind;
  /** The frame's bytes, header included; payload starts at FRAME_HEADER_BYTES. */
  buf: Buffer;
}

/**
 * Reassembles frames from arbitrary socket chunks. Complete frames are views into the chunk
 * (no copy); only a frame split across chunks is concatenated.
 */
export class FrameDecoder {
  /** Chunks of an incomplete frame; joined once the whole frame is here (no quadratic copying). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total bytes of the incomplete frame, once its length prefix is known, else 0. */
  private neededBytes = 0;

  constructor(private readonly frameBytesMax: number) {}

  /** Calls onFrame for every complete frame in `chunk` (plus what was left over). */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < Math.max(this.neededBytes, 4)) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.neededBytes = 0;
    }
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32LE(off);
      if (len < 2 || len + 4 > this.frameBytesMax) throw new CodecError(`bad frame length ${len}`);
      if (buf.length - off < len + 4) {
        this.neededBytes = len + 4;
        break;
      }
      const version = buf[off + 4]!;
      if (version !== WIRE_VERSION) throw new CodecError(`unsupported wire version ${version}`);
      onFrame({ kind: buf[off + 5] as FrameKind, buf: buf.subarray(off, off + 4 + len) });
      off += 4 + len;
    }
    if (off < buf.length) {
      this.pending.push(buf.subarray(off));
      this.pendingBytes = buf.length - off;
    }
  }
}
