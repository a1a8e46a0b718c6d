// The project's one CRC-32: node:zlib's native crc32 and the JS table agree on whole buffers,
// sub-ranges and continued CRCs, so checksummed files and streams move between runtimes.
import Database from 'better-sqlite3';
import t from 'tap';
import { crc32, crc32Text, crc32Update, crc32UpdatePortable } from '../src/crc32.js';

t.test('native and table CRC-32 agree on ranges and continuations', async (t) => {
  let seed = 11;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < 200; i++) {
    const bytes = new Uint8Array(next() % 500);
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    const from = bytes.length === 0 ? 0 : next() % bytes.length;
    const to = from + (bytes.length === from ? 0 : next() % (bytes.length - from + 1));
    const start = next();
    const got = crc32Update(start, bytes, from, to);
    t.equal(got, crc32UpdatePortable(start, bytes, from, to));
    t.ok(got >= 0 && got <= 0xffffffff, 'unsigned 32-bit');
    // Continuing over two halves is the CRC of the whole.
    const mid = from + ((to - from) >> 1);
    t.equal(crc32Update(crc32(bytes, from, mid), bytes, mid, to), crc32(bytes, from, to));
  }
  t.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  t.equal(crc32Text('123456789'), 0xcbf43926);
  t.equal(crc32Text('ü|é'), crc32(new TextEncoder().encode('ü|é')));
});

t.test('an empty blob from SQLite continues a CRC unchanged', async (t) => {
  // Its Buffer has no data pointer, for which zlib.crc32 returns 0 instead of the running value.
  const db = new Database(':memory:');
  const empty = (db.prepare("SELECT x'' AS b").get() as { b: Buffer }).b;
  db.close();
  t.equal(empty.length, 0);
  t.equal(crc32Update(0x12345678, empty), 0x12345678);
  t.equal(crc32(empty), 0);
});
