// Snapshot streaming between SnapshotSender and SnapshotReceiver over a lossy in-memory link:
// chunking under a window, a source pulled a bounded amount per turn, loss and rewind, resume of
// a partial stream, the checksum on the final chunk, the receiver writing to disk.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SnapshotReceiver } from '../../src/raft/driver/snapshot-receiver.js';
import { SnapshotSender } from '../../src/raft/driver/snapshot-sender.js';
import {
  readStagedSnapshot,
  stageReceivedSnapshot,
} from '../../src/raft/driver/staged-snapshot.js';
import { bytesSource, type SnapshotSource } from '../../src/raft/driver/state-machine.js';
import type { Message, SnapshotMeta } from '../../src/raft/types.js';

const meta: SnapshotMeta = { index: 42, term: 3, conf: { voters: ['a', 'b'], learners: [] } };

/** A source over `data` in pieces of `pieceBytes`, counting what was pulled. */
function source(
  data: Uint8Array,
  pieceBytes = 333,
): SnapshotSource & { pulled(): number; closed(): boolean } {
  const inner = bytesSource(meta.index, data, pieceBytes);
  let pulled = 0;
  let closed = false;
  return {
    index: meta.index,
    next() {
      const piece = inner.next();
      if (piece) pulled += piece.length;
      return piece;
    },
    close() {
      closed = true;
      inner.close();
    },
    pulled: () => pulled,
    closed: () => closed,
  };
}

function link(
  o: {
    drop?: (m: Message, n: number) => boolean;
    chunkBytes?: number;
    fillBudgetMs?: number;
    onDeliver?: (m: Message) => void;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'drl-snap-stream-'));
  const toB: Message[] = [];
  const toA: Message[] = [];
  const tasks: Array<() => void> = [];
  const reports: boolean[] = [];
  let sent = 0;
  let turns = 0;
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
    fillBudgetMs: o.fillBudgetMs ?? 2,
    defer: (fn) => tasks.push(fn),
  });
  const receiver = new SnapshotReceiver('b', dir);
  let received: Uint8Array | null = null;
  let maxInFlight = 0;
  /** Runs fill turns and delivers until quiet; `nowMs` advances 300 ms per answer. */
  const run = (startMs = 0) => {
    let now = startMs;
    for (let round = 0; round < 100_000; round++) {
      if (toB.length === 0 && toA.length === 0 && tasks.length === 0) break;
      const task = tasks.shift();
      if (task) {
        turns++;
        task();
      }
      maxInFlight = Math.max(maxInFlight, toB.length);
      const m = toB.shift();
      if (m) {
        o.onDeliver?.(m);
        const { reply, complete } = receiver.onChunk(m);
        if (complete) {
          stageReceivedSnapshot(dir);
          received = readStagedSnapshot(dir)!.data;
        }
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
    dir,
    sender,
    receiver,
    reports,
    run,
    received: () => received,
    maxInFlight: () => maxInFlight,
    sent: () => sent,
    turns: () => turns,
  };
}

t.test('a stream arrives whole, in chunks, never more than the window in flight', async (t) => {
  const data = randomBytes(10_500);
  const l = link();
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [true], 'reported delivered once');
  t.same(Buffer.from(l.received()!), data, 'same bytes');
  t.ok(l.maxInFlight() <= 3, `at most 3 chunks in flight (${l.maxInFlight()})`);
  t.notOk(l.sender.has('b'), 'stream finished');
});

t.test('an empty state is one empty chunk', async (t) => {
  const l = link();
  l.sender.start('b', meta, 3, source(new Uint8Array(0)), 0);
  l.run();
  t.same(l.reports, [true]);
  t.equal(l.received()?.length, 0);
});

t.test('lost chunks are sent again from the offset the receiver expects', async (t) => {
  const data = randomBytes(20_000);
  const l = link({ drop: (_m, n) => n === 2 || n === 7 || n === 8 });
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [true]);
  t.same(Buffer.from(l.received()!), data);
  t.ok(l.sent() > 20, `resent what was lost (${l.sent()} chunk sends for 20 chunks)`);
});

t.test('a broken stream resumes where the receiver stopped', async (t) => {
  const data = randomBytes(10_000);
  let cut = true;
  const l = link({ drop: (m) => cut && (m.snapshot?.offset ?? 0) >= 5000 });
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [], 'nothing reported while stalled');
  l.sender.tick(10_000);
  t.same(l.reports, [false], 'a stalled stream is given up');
  cut = false;
  const before = l.sent();
  l.sender.start('b', meta, 3, source(data), 20_000);
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
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [false]);
  t.equal(l.received(), null, 'nothing handed to the core');
});

t.test('the source is pulled a bounded amount per turn, never far ahead of the acks', async (t) => {
  const data = randomBytes(50_000);
  const src = source(data, 500);
  let aheadMax = 0;
  let acked = 0;
  const l = link({
    fillBudgetMs: 0,
    onDeliver: (m) => {
      acked = Math.max(acked, m.snapshot!.offset);
      aheadMax = Math.max(aheadMax, src.pulled() - acked);
    },
  });
  l.sender.start('b', meta, 3, src, 0);
  l.run();
  t.same(l.reports, [true]);
  t.same(Buffer.from(l.received()!), data);
  t.ok(l.turns() >= 100, `one 500-byte piece per turn with a zero budget (${l.turns()} turns)`);
  t.ok(aheadMax <= 4 * 1000 + 500, `pulled at most about the window ahead of acks (${aheadMax})`);
  t.ok(src.closed(), 'source closed at the end');
});

t.test('only the final chunk carries the checksum', async (t) => {
  const data = randomBytes(4500);
  const seen: Array<{ done: boolean; checksum: number }> = [];
  const l = link({
    drop: (m) => {
      seen.push({ done: m.snapshot!.done, checksum: m.snapshot!.checksum });
      return false;
    },
  });
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [true]);
  t.ok(
    seen.filter((c) => !c.done).every((c) => c.checksum === 0),
    'chunks before the end: 0',
  );
  t.equal(seen.filter((c) => c.done).length, 1, 'one final chunk');
  t.not(seen.find((c) => c.done)!.checksum, 0, 'the final chunk carries the CRC');
});

t.test('a stream exactly a multiple of the chunk size still ends on a data chunk', async (t) => {
  const data = randomBytes(3000);
  const chunks: number[] = [];
  const l = link({
    drop: (m) => {
      chunks.push(m.snapshot!.data.length);
      return false;
    },
  });
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [true]);
  t.same(chunks, [1000, 1000, 1000], 'no empty final chunk');
  t.same(Buffer.from(l.received()!), data);
});

t.test('the receiver writes chunks to its file, not to memory', async (t) => {
  const data = randomBytes(30_000);
  let partBytesSeen = 0;
  const l = link({
    onDeliver: () => {
      const part = join(l.dir, 'snapshot-staged.bin.part');
      if (existsSync(part)) partBytesSeen = Math.max(partBytesSeen, statSync(part).size);
    },
  });
  l.sender.start('b', meta, 3, source(data), 0);
  l.run();
  t.same(l.reports, [true]);
  t.ok(partBytesSeen >= 20_000, `the partial file grew with the stream (${partBytesSeen} bytes)`);
  t.notOk(existsSync(join(l.dir, 'snapshot-staged.bin.part')), 'no partial file left');
});

t.test('a receiver that lost what it acknowledged makes the sender give up', async (t) => {
  const data = randomBytes(10_000);
  const l = link({ drop: (m) => m.snapshot!.offset >= 4000 });
  l.sender.start('b', meta, 3, source(data), 0);
  const now = l.run();
  t.same(l.reports, [], 'stalled at 4000, nothing reported');
  // A restarted receiver answers a retransmit with "expecting 0".
  const answer = { ...snapResp(), context: 0, rejectHint: 1 };
  l.sender.onResponse(answer, now + 1);
  t.same(l.reports, [false], 'the stream is given up (the core will ask again)');
  t.notOk(l.sender.has('b'));
});

function snapResp(): Message {
  return {
    type: 'SnapResp' as unknown as Message['type'],
    from: 'b',
    to: 'a',
    term: 3,
    index: meta.index,
    context: 4000,
    reject: false,
    rejectHint: 0,
  } as unknown as Message;
}

t.test('a source that fails ends the stream as failed', async (t) => {
  const l = link();
  let pieces = 0;
  const failing: SnapshotSource = {
    index: meta.index,
    next() {
      if (++pieces > 3) throw new Error('disk read error');
      return new Uint8Array(500);
    },
    close() {},
  };
  l.sender.start('b', meta, 3, failing, 0);
  l.run();
  t.same(l.reports, [false]);
  t.notOk(l.sender.has('b'));
});
