// Snapshot streaming between SnapshotSender and SnapshotReceiver over a lossy in-memory link:
// chunking under a window, loss and rewind, resume of a partial stream, checksum mismatch.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { SnapshotReceiver } from '../../src/raft/driver/snapshot-receiver.js';
import { SnapshotSender } from '../../src/raft/driver/snapshot-sender.js';
import type { Message, SnapshotMeta } from '../../src/raft/types.js';

const meta: SnapshotMeta = { index: 42, term: 3, conf: { voters: ['a', 'b'], learners: [] } };

function link(o: { drop?: (m: Message, n: number) => boolean; chunkBytes?: number } = {}) {
  const toB: Message[] = [];
  const toA: Message[] = [];
  const reports: boolean[] = [];
  let sent = 0;
  const sender = new SnapshotSender({
    id: 'a',
    send: (m) => {
      sent++;
      if (!o.drop?.(m, sent)) toB.push(m);
    },
    report: (_to, ok) => reports.push(ok),
    chunkBytes: o.chunkBytes ?? 1000,
    windowChunks: 3,
    stallTimeoutMs: 1000,
  });
  const receiver = new SnapshotReceiver('b');
  let received: Uint8Array | null = null;
  let maxInFlight = 0;
  /** Delivers until quiet; `nowMs` advances 300 ms per round so rewinds are allowed. */
  const run = (startMs = 0) => {
    let now = startMs;
    for (let round = 0; round < 10_000 && (toB.length > 0 || toA.length > 0); round++) {
      maxInFlight = Math.max(maxInFlight, toB.length);
      const m = toB.shift();
      if (m) {
        const { reply, complete } = receiver.onChunk(m);
        if (complete) received = complete.data;
        toA.push(reply);
      }
      const r = toA.shift();
      if (r) {
        now += 300;
        sender.onResponse(r, now);
      }
    }
    return now;
  };
  return {
    sender,
    receiver,
    reports,
    run,
    received: () => received,
    maxInFlight: () => maxInFlight,
    sent: () => sent,
  };
}

t.test('a stream arrives whole, in chunks, never more than the window in flight', async (t) => {
  const data = randomBytes(10_500);
  const l = link();
  l.sender.start('b', meta, 3, data, 0);
  l.run();
  t.same(l.reports, [true], 'reported delivered once');
  t.same(Buffer.from(l.received()!), data, 'same bytes');
  t.ok(l.maxInFlight() <= 3, `at most 3 chunks in flight (${l.maxInFlight()})`);
  t.notOk(l.sender.has('b'), 'stream finished');
});

t.test('an empty state is one empty chunk', async (t) => {
  const l = link();
  l.sender.start('b', meta, 3, new Uint8Array(0), 0);
  l.run();
  t.same(l.reports, [true]);
  t.equal(l.received()?.length, 0);
});

t.test('lost chunks are sent again from the offset the receiver expects', async (t) => {
  const data = randomBytes(20_000);
  const l = link({ drop: (_m, n) => n === 2 || n === 7 || n === 8 });
  l.sender.start('b', meta, 3, data, 0);
  l.run();
  t.same(l.reports, [true]);
  t.same(Buffer.from(l.received()!), data);
  t.ok(l.sent() > 20, `resent what was lost (${l.sent()} chunk sends for 20 chunks)`);
});

t.test('a broken stream resumes where the receiver stopped', async (t) => {
  const data = randomBytes(10_000);
  let cut = true;
  const l = link({ drop: (m) => cut && (m.snapshot?.offset ?? 0) >= 5000 });
  l.sender.start('b', meta, 3, data, 0);
  l.run();
  t.same(l.reports, [], 'nothing reported while stalled');
  l.sender.tick(10_000);
  t.same(l.reports, [false], 'a stalled stream is given up');
  cut = false;
  const before = l.sent();
  l.sender.start('b', meta, 3, data, 20_000);
  l.run(20_000);
  t.same(l.reports, [false, true]);
  t.same(Buffer.from(l.received()!), data);
  t.ok(
    l.sent() - before <= 5 + 3,
    `the new stream skipped the 5 chunks held (${l.sent() - before} sends)`,
  );
});

t.test('a checksum mismatch is rejected and reported failed', async (t) => {
  const data = randomBytes(3000);
  const l = link({
    drop: (m) => {
      if (m.snapshot && m.snapshot.offset === 1000) m.snapshot.data = new Uint8Array(1000);
      return false;
    },
  });
  l.sender.start('b', meta, 3, data, 0);
  l.run();
  t.same(l.reports, [false]);
  t.equal(l.received(), null, 'nothing handed to the core');
});
