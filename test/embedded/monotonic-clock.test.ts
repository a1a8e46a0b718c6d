import t from 'tap';
import { type ClockSource, MonotonicClock } from '../../src/embedded/monotonic-clock.js';

function fakeSource(wallMs: number, elapsedMs: number): ClockSource & { elapsed: number } {
  const source = {
    elapsed: elapsedMs,
    wallMs: () => wallMs,
    elapsedMs: () => source.elapsed,
  };
  return source;
}

t.test('starts at the wall clock and advances by elapsed time, in integer ms', async (t) => {
  const source = fakeSource(1_000_000.7, 50.2);
  const clock = new MonotonicClock(0, source);
  t.equal(clock.now(), 1_000_000);
  source.elapsed = 60.1;
  t.equal(clock.now(), 1_000_010);
  source.elapsed = 1050.2;
  t.equal(clock.now(), 1_001_000);
});

t.test('a persisted later time wins over the wall clock', async (t) => {
  const source = fakeSource(1_000, 0);
  const clock = new MonotonicClock(5_000, source);
  t.equal(clock.now(), 5_000, 'time does not go back across a restart');
  source.elapsed = 3;
  t.equal(clock.now(), 5_003);
});

t.test('never goes backwards', async (t) => {
  const source = fakeSource(10_000, 100);
  const clock = new MonotonicClock(0, source);
  source.elapsed = 200;
  t.equal(clock.now(), 10_100);
  source.elapsed = 150;
  t.equal(clock.now(), 10_100, 'a counter reading lower than before does not move time back');
});

t.test('the system source tracks the wall clock', async (t) => {
  const wallBeforeMs = Date.now();
  const clock = new MonotonicClock();
  const now = clock.now();
  const wallAfterMs = Date.now();
  t.ok(Number.isInteger(now));
  t.ok(
    now >= wallBeforeMs - 1 && now <= wallAfterMs + 1,
    `clock ${now} within the wall-clock reads around it (${wallBeforeMs}..${wallAfterMs})`,
  );
  let last = now;
  for (let i = 0; i < 10_000; i++) {
    const next = clock.now();
    if (next < last) t.fail(`went back from ${last} to ${next}`);
    last = next;
  }
  t.ok(last >= now);
});
