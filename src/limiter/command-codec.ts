/**
 * Binary encoding of limiter commands for Raft log entries. Every decision is one entry, so
 * this runs once per request on the leader and once per entry on every replica: a fixed
 * little-endian layout, no JSON. Layout: [version u8][type u8][ts f64] then per type fields;
 * strings are [byteLength u16][utf8]. Decoding validates lengths and throws on garbage.
 */
import { DrlError } from '../errors.js';
import type { Algorithm, AllowCommand, Command } from './types.js';

const VERSION = 1;
const enum Tag {
  Allow = 1,
  SetRule = 2,
  DeleteRule = 3,
  SetOverride = 4,
  DeleteOverride = 5,
  Tick = 6,
}
const ALGORITHMS: readonly Algorithm[] = ['sliding-log', 'sliding-counter', 'token-bucket'];
/** Upper bound of one encoded command: 3 strings of <= 64 KiB plus fixed fields. */
const encodedBytesMax = 3 * (2 + 0xffff) + 64;

class Writer {
  buf: Buffer;
  pos = 0;
  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafe(bytes);
  }
  u8(v: number): void {
    this.buf.writeUInt8(v, this.pos);
    this.pos += 1;
  }
  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const n = this.buf.write(s, this.pos + 2, 'utf8');
    if (n > 0xffff) throw new DrlError('invalid_argument', 'string too long to encode');
    this.buf.writeUInt16LE(n, this.pos);
    this.pos += 2 + n;
  }
  done(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DrlError('invalid_argument', 'truncated command');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    this.need(2);
    const n = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new DrlError('invalid_argument', 'trailing bytes');
  }
}

function sizeOf(c: Exclude<Command, AllowCommand>): number {
  let n = 16;
  for (const s of stringsOf(c)) n += 2 + Buffer.byteLength(s, 'utf8');
  return Math.min(n, encodedBytesMax);
}

function stringsOf(c: Exclude<Command, AllowCommand>): string[] {
  switch (c.type) {
    case 'setRule':
    case 'deleteRule':
      return [c.name];
    case 'setOverride':
    case 'deleteOverride':
      return [c.rule, c.key];
    case 'tick':
      return [];
  }
}

/** Fixed bytes of an allow: version, tag, ts, cost, limit, windowMs, three string lengths. */
const ALLOW_FIXED_BYTES = 2 + 8 + 3 * 8 + 3 * 2;

/** A string as [byteLength u16][utf8] at `pos`; returns the position after it. */
function putStr(buf: Buffer, pos: number, s: string): number {
  const n = s.length === 0 ? 0 : buf.write(s, pos + 2, 'utf8');
  if (n > 0xffff) throw new DrlError('invalid_argument', 'string too long to encode');
  buf.writeUInt16LE(n, pos);
  return pos + 2 + n;
}

/**
 * The allow layout written directly: one per request on the leader, so no size pass over a
 * string array and no Writer object. UTF-8 takes at most 3 bytes per UTF-16 unit, an upper
 * bound that needs no scan of the strings (a small buffer comes from Node's shared pool).
 */
function encodeAllow(c: AllowCommand): Uint8Array {
  const rule = c.rule ?? '';
  const requestId = c.requestId ?? '';
  const max = ALLOW_FIXED_BYTES + 3 * (rule.length + c.key.length + requestId.length);
  const buf = Buffer.allocUnsafe(max);
  buf[0] = VERSION;
  buf[1] = Tag.Allow;
  buf.writeDoubleLE(c.ts, 2);
  let pos = putStr(buf, 10, rule);
  pos = putStr(buf, pos, c.key);
  buf.writeDoubleLE(c.cost ?? 1, pos);
  buf.writeDoubleLE(c.limit ?? 0, pos + 8);
  buf.writeDoubleLE(c.windowMs ?? 0, pos + 16);
  pos = putStr(buf, pos + 24, requestId);
  return buf.subarray(0, pos);
}

export function encodeCommand(c: Command): Uint8Array {
  if (c.type === 'allow') return encodeAllow(c);
  const w = new Writer(sizeOf(c) + 64);
  w.u8(VERSION);
  switch (c.type) {
    case 'setRule':
      w.u8(Tag.SetRule);
      w.f64(c.ts);
      w.str(c.name);
      w.f64(c.spec.limit);
      w.f64(c.spec.windowMs);
      w.u8(ALGORITHMS.indexOf(c.spec.algorithm ?? 'sliding-log'));
      w.f64(c.spec.burst ?? -1);
      break;
    case 'deleteRule':
      w.u8(Tag.DeleteRule);
      w.f64(c.ts);
      w.str(c.name);
      break;
    case 'setOverride':
      w.u8(Tag.SetOverride);
      w.f64(c.ts);
      w.str(c.rule);
      w.str(c.key);
      w.f64(c.spec.limit);
      w.f64(c.spec.windowMs);
      break;
    case 'deleteOverride':
      w.u8(Tag.DeleteOverride);
      w.f64(c.ts);
      w.str(c.rule);
      w.str(c.key);
      break;
    case 'tick':
      w.u8(Tag.Tick);
      w.f64(c.ts);
      break;
  }
  return w.done();
}

export function decodeCommand(bytes: Uint8Array): Command {
  // Entries from the transport and the log store are Buffers already: no second view.
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== VERSION) throw new DrlError('invalid_argument', `command version ${version}`);
  const tag = r.u8();
  const ts = r.f64();
  const c = decodeBody(tag, ts, r);
  r.end();
  return c;
}

function decodeBody(tag: number, ts: number, r: Reader): Command {
  switch (tag) {
    case Tag.Allow:
      return decodeAllow(ts, r);
    case Tag.SetRule: {
      const name = r.str();
      const limit = r.f64();
      const windowMs = r.f64();
      const algorithm = ALGORITHMS[r.u8()];
      if (algorithm === undefined) throw new DrlError('invalid_argument', 'bad algorithm tag');
      const burst = r.f64();
      const spec =
        burst < 0 ? { limit, windowMs, algorithm } : { limit, windowMs, algorithm, burst };
      return { type: 'setRule', ts, name, spec };
    }
    case Tag.DeleteRule:
      return { type: 'deleteRule', ts, name: r.str() };
    case Tag.SetOverride: {
      const rule = r.str();
      const key = r.str();
      return { type: 'setOverride', ts, rule, key, spec: { limit: r.f64(), windowMs: r.f64() } };
    }
    case Tag.DeleteOverride:
      return { type: 'deleteOverride', ts, rule: r.str(), key: r.str() };
    case Tag.Tick:
      return { type: 'tick', ts };
    default:
      throw new DrlError('invalid_argument', `unknown command tag ${tag}`);
  }
}

function decodeAllow(ts: number, r: Reader): Command {
  const rule = r.str();
  const key = r.str();
  const cost = r.f64();
  const limit = r.f64();
  const windowMs = r.f64();
  const requestId = r.str();
  const c: Command = { type: 'allow', ts, key, cost };
  if (rule !== '') c.rule = rule;
  if (limit !== 0) c.limit = limit;
  if (windowMs !== 0) c.windowMs = windowMs;
  if (requestId !== '') c.requestId = requestId;
  return c;
}
