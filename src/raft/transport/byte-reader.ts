/** Thrown on any malformed frame; the transport closes the connection that sent it. */
export class CodecError extends Error {
  override name = 'CodecError';
}

/** Bounds-checked reader over one frame's payload. Byte slices are views, not copies. */
export class ByteReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos === this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new CodecError('truncated frame');
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (this.pos + 4 > this.end) throw new CodecError('truncated frame');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) throw new CodecError('varint out of range');
        return result;
      }
      scale *= 0x80;
    }
    throw new CodecError('varint too long');
  }

  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  raw(n: number): Buffer {
    if (this.pos + n > this.end) throw new CodecError('truncated frame');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  bytes(): Buffer {
    return this.raw(this.varint());
  }

  str(): string {
    const n = this.varint();
    if (this.pos + n > this.end) throw new CodecError('truncated frame');
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
