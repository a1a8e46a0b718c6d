// The paced generator's schedule and its three intervals per request: coordinated omission is
// counted from the due time; the time from the actual send and the send delay add up to it.
import t from 'tap';
import { dueAtMs, dueCount, timings } from '../../bench/http-paced-schedule.js';

t.test('dueCount: request i is due at i * interval, capped at the total', async (t) => {
  // 4 per ms: requests 0..3 are due in the first ms.
  t.equal(dueCount(-1, 0.25, 100), 0, 'nothing before the start');
  t.equal(dueCount(0, 0.25, 100), 1, 'request 0 is due at the start');
  t.equal(dueCount(0.99, 0.25, 100), 4);
  t.equal(dueCount(1, 0.25, 100), 5);
  t.equal(dueCount(1000, 0.25, 100), 100, 'never more than the run has');
  t.equal(dueAtMs(8, 0.25), 2);
});

t.test('a late generator is counted against the request, not hidden', async (t) => {
  // Due at 10 ms, sent 15 ms late (GC, a busy loop, no free connection), answered 1 ms later.
  const x = timings(10, 25, 26);
  t.equal(x.fromDueMs, 16, 'from the scheduled send: what a caller would have waited');
  t.equal(x.fromSendMs, 1, 'from the actual send: what the target and network took');
  t.equal(x.sendDelayMs, 15);
  t.equal(x.sendDelayMs + x.fromSendMs, x.fromDueMs);
});
