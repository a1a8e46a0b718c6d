// The proposals a leader waits on: settled in index order by the entries applied, lost ones
// rejected as not_leader, late ones unavailable, and nothing kept once settled.
import t from 'tap';
import { IndexOrderedQueue } from '../../src/raft/driver/index-ordered-queue.js';
import { PendingRequests } from '../../src/raft/driver/pending-requests.js';
import type { Proposed } from '../../src/raft/driver/state-machine.js';
import { type Entry, EntryType } from '../../src/raft/types.js';
import { collectedCount } from '../gc-collected.js';

function entry(index: number, data: Uint8Array): Entry {
  return { index, term: 1, type: EntryType.Normal, data };
}

/** addProposal with its callback as a promise (what RaftNode.propose does). */
function add<R>(
  pending: PendingRequests<R>,
  index: number,
  data: Uint8Array,
  deadlineMs: number,
): Promise<Proposed<R>> {
  return new Promise((resolve, reject) =>
    pending.addProposal(index, data, deadlineMs, (err, p) => (err ? reject(err) : resolve(p!))),
  );
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'error',
  );

t.test('the ring keeps index order through growth and finds any index', async (t) => {
  // 200 records: past the ring's first two capacities (64, 128), with a wrapped start.
  const q = new IndexOrderedQueue<{ index: number }>();
  for (let i = 1; i <= 5; i++) q.push({ index: i * 10 });
  q.shift();
  for (let i = 6; i <= 200; i++) q.push({ index: i * 10 });
  t.equal(q.size, 199);
  t.equal(q.first()?.index, 20);
  t.equal(q.last()?.index, 2000);
  t.equal(q.find(1250)?.index, 1250);
  t.equal(q.find(1255), undefined);
  t.throws(() => q.push({ index: 2000 }), /push 2000 after 2000/);
  t.equal(q.pop()?.index, 2000);
  const seen: number[] = [];
  for (let x = q.shift(); x; x = q.shift()) seen.push(x.index);
  t.same(
    seen,
    Array.from({ length: 198 }, (_, i) => (i + 2) * 10),
  );
  t.equal(q.size, 0);
  t.equal(q.first(), undefined);
});

t.test('applied entries settle their own proposals; other bytes mean lost', async (t) => {
  const pending = new PendingRequests<string>();
  const a = new Uint8Array([1]);
  const b = new Uint8Array([2]);
  const pa = add(pending, 5, a, 1000);
  const pb = add(pending, 6, b, 1000);
  t.ok(pending.waits(entry(5, a)));
  t.notOk(pending.waits(entry(6, new Uint8Array([2]))), 'same bytes, another buffer');
  pending.applied(entry(5, a), 'five');
  pending.applied(entry(6, new Uint8Array([2])), 'six');
  t.same(await pa, { index: 5, result: 'five' });
  t.equal(await outcome(pb), 'not_leader');
  t.equal(pending.size, 0);
});

t.test('a proposal at or below a pending index drops those the new leader cut', async (t) => {
  const pending = new PendingRequests<string>();
  const bytes = [7, 8, 9].map((i) => new Uint8Array([i]));
  const old = [7, 8, 9].map((i, k) => add(pending, i, bytes[k]!, 1000));
  const data = new Uint8Array([80]);
  const again = add(pending, 8, data, 1000);
  t.same(await Promise.all([outcome(old[1]!), outcome(old[2]!)]), ['not_leader', 'not_leader']);
  t.equal(pending.size, 2, 'index 7 still waits, beside the new 8');
  pending.applied(entry(7, bytes[0]!), 'seven');
  pending.applied(entry(8, data), 'eight');
  t.same(await Promise.all([old[0], again]), [
    { index: 7, result: 'seven' },
    { index: 8, result: 'eight' },
  ]);
});

t.test('deadlines expire in order; an index passed without an apply is unavailable', async (t) => {
  const pending = new PendingRequests<string>();
  const ps = [1, 2, 3, 4].map((i) => add(pending, i, new Uint8Array([i]), i * 10));
  pending.expire(20);
  t.same(await Promise.all([outcome(ps[0]!), outcome(ps[1]!)]), ['unavailable', 'unavailable']);
  t.equal(pending.size, 2);
  pending.applied(entry(4, new Uint8Array([4])), 'four');
  t.same(await Promise.all([outcome(ps[2]!), outcome(ps[3]!)]), ['unavailable', 'not_leader']);
  const late = add(pending, 5, new Uint8Array([5]), 100);
  pending.rejectAll(new Error('stopped'));
  t.equal(await outcome(late), 'error');
  t.equal(pending.size, 0);
});

t.test('a settled proposal is not kept: its data and promise can be collected', async (t) => {
  const pending = new PendingRequests<number>();
  const refs: WeakRef<object>[] = [];
  const n = 3000;
  // In its own frame, so no local of the test still points at a late proposal.
  ((): void => {
    for (let i = 1; i <= n; i++) {
      const data = new Uint8Array(1);
      const p = add(pending, i, data, 1e9);
      refs.push(new WeakRef(data), new WeakRef(p));
      // The last one stays pending, so nothing is ever empty enough to be cleared wholesale.
      if (i < n) pending.applied(entry(i, data), i);
    }
  })();
  const collected = await collectedCount(refs);
  // The pending one's two, plus a few a register or the GC may still hold: the old FIFO kept
  // every settled one (0 collected).
  t.ok(collected >= refs.length - 10, `${collected} of ${refs.length} collected`);
  t.equal(pending.size, 1);
});
