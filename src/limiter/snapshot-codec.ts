import { crc32 } from '../crc32.js';
import { DrlError } from '../errors.js';
import type { Algorithm, Decision, StateRecord } from './types.js';

/**
 * A byte stream for shipping a snapshot (Raft InstallSnapshot). The stream is a sequence of
 * frames: magic "DRL1" (u32), payload length (u32), CRC-32 of the payload (u32), payload. A
 * payload holds whole records; a frame is at most FRAME_BYTES_MAX unless a single record is
 * bigger. The last frame holds only an end record with the record count, so a truncated stream
 * is detected. All integers are big-endian. The decoder accepts any re-chunking of the bytes.
 */

const MAGIC = 0x44524c31;
const HEADER_BYTES = 12;
export const FRAME_BYTES_MAX = 64 * 1024;

/** requestAt: a request record followed by its log index (f64); older streams have none. */
const KIND = {
  meta: 1,
  rule: 2,
  override: 3,
  window: 4,
  request: 5,
  requestAt: 6,
  end: 255,
} as const;
const ALGORITHMS: Algorithm[] = ['sliding-log', 'sliding-counter', 'token-bucket'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Growable byte buffer for one frame's payload. */
class Out {
  bytes = new Uint8Array(FRAME_BYTES_MAX + HEADER_BYTES);
  view = new DataView(this.bytes.buffer);
  at = HEADER_BYTES;

  ensure(extra: number): void {
    if (this.at + extra <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.at + extra));
    next.set(this.bytes.subarray(0, this.at));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
  u8(value: number): void {
    this.ensure(1);
    this.view.setUint8(this.at, value);
    this.at += 1;
  }
  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.at, value);
    this.at += 4;
  }
  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.at, value);
    this.at += 8;
  }
  raw(data: Uint8Array): void {
    this.u32(data.length);
    this.ensure(data.length);
    this.bytes.set(data, this.at);
    this.at += data.length;
  }
  str(text: string): void {
    this.raw(encoder.encode(text));
  }
}

function writeDecision(out: Out, d: Decision): void {
  out.u8(d.allowed ? 1 : 0);
  out.f64(d.limit);
  out.f64(d.remaining);
  out.f64(d.resetMs);
  out.f64(d.retryAfterMs === null ? -1 : d.retryAfterMs);
}

function writeRecord(out: Out, record: StateRecord): void {
  switch (record.kind) {
    case 'meta':
      out.u8(KIND.meta);
      out.str(record.name);
      out.f64(record.value);
      return;
    case 'rule':
      out.u8(KIND.rule);
      out.str(record.name);
      out.f64(record.spec.limit);
      out.f64(record.spec.windowMs);
      out.u8(ALGORITHMS.indexOf(record.spec.algorithm ?? 'sliding-log'));
      out.f64(record.spec.burst ?? 0);
      return;
    case 'override':
      out.u8(KIND.override);
      out.str(record.rule);
      out.str(record.key);
      out.f64(record.spec.limit);
      out.f64(record.spec.windowMs);
      return;
    case 'window':
      out.u8(KIND.window);
      out.str(record.rule);
      out.str(record.key);
      out.raw(record.data);
      return;
    case 'request':
      out.u8(record.logIndex === undefined ? KIND.request : KIND.requestAt);
      out.str(record.id);
      out.str(record.fingerprint);
      out.f64(record.ts);
      out.f64(record.seq ?? -1);
      writeDecision(out, record.decision);
      if (record.logIndex !== undefined) out.f64(record.logIndex);
      return;
  }
}

/** Closes the frame in `out` and returns its bytes (a copy). */
function finishFrame(out: Out): Uint8Array {
  const payload = out.at - HEADER_BYTES;
  out.view.setUint32(0, MAGIC);
  out.view.setUint32(4, payload);
  out.view.setUint32(8, crc32(out.bytes, HEADER_BYTES, out.at));
  const frame = out.bytes.slice(0, out.at);
  out.at = HEADER_BYTES;
  return frame;
}

/**
 * `frameBytesMax` (at most FRAME_BYTES_MAX): smaller frames for a caller that produces the
 * stream a frame per event-loop turn; any size decodes the same.
 */
export function* encodeSnapshot(
  records: Iterable<StateRecord>,
  frameBytesMax = FRAME_BYTES_MAX,
): Iterable<Uint8Array> {
  if (!(frameBytesMax >= 1 && frameBytesMax <= FRAME_BYTES_MAX)) {
    throw new DrlError('internal', `snapshot frame of ${frameBytesMax} bytes`);
  }
  const out = new Out();
  let count = 0;
  for (const record of records) {
    const before = out.at;
    writeRecord(out, record);
    count++;
    if (out.at - HEADER_BYTES > frameBytesMax && before > HEADER_BYTES) {
      // The record overflowed a non-empty frame: ship what was before it, keep it for the next.
      const tail = out.bytes.slice(before, out.at);
      out.at = before;
      yield finishFrame(out);
      out.ensure(tail.length);
      out.bytes.set(tail, out.at);
      out.at += tail.length;
    }
  }
  if (out.at > HEADER_BYTES) yield finishFrame(out);
  out.u8(KIND.end);
  out.f64(count);
  yield finishFrame(out);
}

/** Reads frames from arbitrarily split chunks. */
class FrameReader {
  private buffer = new Uint8Array(0);
  private start = 0;

  push(chunk: Uint8Array): void {
    const rest = this.buffer.subarray(this.start);
    const next = new Uint8Array(rest.length + chunk.length);
    next.set(rest);
    next.set(chunk, rest.length);
    this.buffer = next;
    this.start = 0;
  }

  /** The next complete frame's payload, or undefined if more bytes are needed. */
  next(): Uint8Array | undefined {
    const available = this.buffer.length - this.start;
    if (available < HEADER_BYTES) return undefined;
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + this.start);
    if (view.getUint32(0) !== MAGIC) throw corrupt('bad frame magic');
    const length = view.getUint32(4);
    if (available < HEADER_BYTES + length) return undefined;
    const from = this.start + HEADER_BYTES;
    if (crc32(this.buffer, from, from + length) !== view.getUint32(8)) {
      throw corrupt('frame checksum mismatch');
    }
    this.start = from + length;
    return this.buffer.subarray(from, from + length);
  }

  get pending(): number {
    return this.buffer.length - this.start;
  }
}

class In {
  private at = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get done(): boolean {
    return this.at >= this.bytes.length;
  }
  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw corrupt('record overruns its frame');
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }
  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at);
    this.at += 4;
    return value;
  }
  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.at);
    this.at += 8;
    return value;
  }
  raw(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const data = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return data;
  }
  str(): string {
    try {
      return decoder.decode(this.raw());
    } catch (error) {
      if (error instanceof DrlError) throw error;
      throw corrupt('invalid UTF-8');
    }
  }
}

function readDecision(input: In): Decision {
  const allowed = input.u8() === 1;
  const limit = input.f64();
  const remaining = input.f64();
  const resetMs = input.f64();
  const retry = input.f64();
  return { allowed, limit, remaining, resetMs, retryAfterMs: retry < 0 ? null : retry };
}

function readRecord(input: In, kind: number): StateRecord {
  switch (kind) {
    case KIND.meta:
      return { kind: 'meta', name: input.str(), value: input.f64() };
    case KIND.rule: {
      const name = input.str();
      const limit = input.f64();
      const windowMs = input.f64();
      const algorithm = ALGORITHMS[input.u8()];
      if (algorithm === undefined) throw corrupt('unknown algorithm');
      return { kind: 'rule', name, spec: { limit, windowMs, algorithm, burst: input.f64() } };
    }
    case KIND.override: {
      const rule = input.str();
      const key = input.str();
      return { kind: 'override', rule, key, spec: { limit: input.f64(), windowMs: input.f64() } };
    }
    case KIND.window:
      return { kind: 'window', rule: input.str(), key: input.str(), data: input.raw() };
    case KIND.request:
    case KIND.requestAt: {
      const id = input.str();
      const fingerprint = input.str();
      const ts = input.f64();
      const seq = input.f64();
      const record: StateRecord = {
        kind: 'request',
        id,
        fingerprint,
        ts,
        decision: readDecision(input),
      };
      if (seq >= 0) record.seq = seq;
      if (kind === KIND.requestAt) record.logIndex = input.f64();
      return record;
    }
    default:
      throw corrupt(`unknown record kind ${kind}`);
  }
}

export function* decodeSnapshot(chunks: Iterable<Uint8Array>): Iterable<StateRecord> {
  const reader = new FrameReader();
  let count = 0;
  let ended = false;
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let payload = reader.next(); payload !== undefined; payload = reader.next()) {
      if (ended) throw corrupt('data after the end record');
      const input = new In(payload);
      while (!input.done) {
        const kind = input.u8();
        if (kind === KIND.end) {
          if (input.f64() !== count || !input.done) throw corrupt('record count mismatch');
          ended = true;
          break;
        }
        yield readRecord(input, kind);
        count++;
      }
    }
  }
  if (!ended || reader.pending !== 0) throw corrupt('stream truncated (no end record)');
}

function corrupt(message: string): DrlError {
  return new DrlError('storage_corrupt', `snapshot stream: ${message}`);
}
