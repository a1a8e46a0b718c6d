import fc from 'fast-check';
import t from 'tap';
import { ByteReader, CodecError } from '../../src/raft/transport/byte-reader.js';
import { ByteWriter } from '../../src/raft/transport/byte-writer.js';
import {
  beginFrame,
  endFrame,
  FRAME_HEADER_BYTES,
  type Frame,
  FrameDecoder,
  FrameKind,
} from '../../src/raft/transport/frame.js';
import { decodeMessage, encodeMessage } from '../../src/raft/transport/message-codec.js';
import type { Entry, Message } from '../../src/raft/types.js';

const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const id = fc.string({ minLength: 1, maxLength: 12 });

const entriesArb = fc
  .tuple(
    fc.nat({ max: 2 ** 40 }),
    fc.array(
      fc.record({
        term: fc.nat({ max: 2 ** 40 }),
        type: fc.constantFrom(0, 1),
        data: fc.uint8Array({ maxLength: 80 }),
      }),
      { maxLength: 20 },
    ),
  )
  .map(([first, es]) => es.map((e, i) => ({ index: first + i + 1, ...e }) as Entry));

const snapshotArb = fc.option(
  fc.record({
    meta: fc.record({
      index: uint,
      term: uint,
      conf: fc.record({
        voters: fc.array(id, { maxLength: 5 }),
        learners: fc.array(id, { maxLength: 3 }),
      }),
    }),
    offset: uint,
    data: fc.uint8Array({ maxLength: 200 }),
    done: fc.boolean(),
    checksum: fc.nat({ max: 0xffffffff }),
  }),
  { nil: null },
);

const messageArb: fc.Arbitrary<Message> = fc.record({
  type: fc.integer({ min: 0, max: 10 }),
  from: id,
  to: id,
  term: uint,
  logTerm: uint,
  index: uint,
  commit: uint,
  entries: entriesArb,
  reject: fc.boolean(),
  rejectHint: uint,
  context: uint,
  snapshot: snapshotArb,
}) as fc.Arbitrary<Message>;

function frameOf(messages: Message[]): Buffer {
  const w = new ByteWriter(16);
  for (const m of messages) {
    const start = beginFrame(w, FrameKind.Message);
    encodeMessage(w, m);
    endFrame(w, start);
  }
  return w.take();
}

function decodeFrames(chunks: Buffer[]): Message[] {
  const decoder = new FrameDecoder(1 << 20);
  const out: Message[] = [];
  const onFrame = (f: Frame) => out.push(decodeMessage(new ByteReader(f.buf, FRAME_HEADER_BYTES)));
  for (const c of chunks) decoder.push(c, onFrame);
  return out;
}

/** Plain-data view of a message: byte arrays become number arrays (Buffer vs Uint8Array). */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

t.test('every message survives encode/decode', async (t) => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const [got] = decodeFrames([frameOf([m])]);
      t.same(normalize(got!), normalize(m));
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('frames split at arbitrary points reassemble in order', async (t) => {
  fc.assert(
    fc.property(
      fc.array(messageArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (messages, cuts) => {
        const bytes = frameOf(messages);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(prev, p));
          prev = p;
        }
        const got = decodeFrames(chunks);
        t.same(got.map(normalize), messages.map(normalize));
        return true;
      },
    ),
    { numRuns: 200 },
  );
});

t.test('a 64-byte entry costs at most 70 bytes on the wire in a batch', async (t) => {
  const entries: Entry[] = [];
  for (let i = 0; i < 100; i++)
    entries.push({ index: 1001 + i, term: 7, type: 0, data: new Uint8Array(64) });
  const m = normalizeLess({ entries, index: 1000, term: 7, logTerm: 7, commit: 990 });
  const bytes = frameOf([m]).length;
  t.ok(bytes / 100 <= 70, `bytes per entry ${bytes / 100}`);
});

t.test('malformed input is a CodecError, never a hang or a bad message', async (t) => {
  const bytes = frameOf([normalizeLess({ entries: [] })]);
  const truncated = Buffer.from(bytes.subarray(0, bytes.length - 1));
  truncated.writeUInt32LE(truncated.length - 4, 0);
  t.throws(() => decodeFrames([truncated]), CodecError);
  const badVersion = Buffer.from(bytes);
  badVersion[4] = 99;
  t.throws(() => decodeFrames([badVersion]), CodecError);
  const huge = Buffer.alloc(8);
  huge.writeUInt32LE(1 << 30, 0);
  t.throws(() => decodeFrames([huge]), CodecError);
  const w = new ByteWriter(4);
  t.throws(() => w.varint(-1), RangeError);
  t.throws(() => w.varint(2 ** 53), RangeError);
});

function normalizeLess(partial: Partial<Message>): Message {
  return {
    type: 4,
    from: 'a',
    to: 'b',
    term: 1,
    logTerm: 0,
    index: 0,
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
    context: 0,
    snapshot: null,
    ...partial,
  };
}
