import t from 'tap';
import {
  generateSchedule,
  nemesisKinds,
  parseNemesisList,
  scheduleSkewBoundMs,
} from './schedule.js';

t.test('a seed replays the same schedule; another seed differs', async (t) => {
  const a = generateSchedule({ seed: 5, timeMs: 300_000, kinds: nemesisKinds });
  const b = generateSchedule({ seed: 5, timeMs: 300_000, kinds: nemesisKinds });
  const c = generateSchedule({ seed: 6, timeMs: 300_000, kinds: nemesisKinds });
  t.same(a, b);
  t.notSame(a, c);
  t.ok(a.length >= 10, `${a.length} faults in 300 s`);
});

t.test('faults do not overlap, fit the run and end before a healthy tail', async (t) => {
  for (let seed = 1; seed <= 50; seed++) {
    const timeMs = 60_000;
    const steps = generateSchedule({
      seed,
      timeMs,
      kinds: nemesisKinds,
      gapMs: 3000,
      faultMs: 5000,
      leaseMs: 800,
    });
    let endMs = 0;
    for (const s of steps) {
      if (s.atMs < endMs) throw new Error(`seed ${seed}: overlap at ${s.atMs}`);
      if (s.durationMs <= 0) throw new Error('empty fault');
      if (
        s.fault.kind === 'pause' &&
        s.durationMs < 1600 &&
        s.atMs + s.durationMs < timeMs - 3000
      ) {
        throw new Error('pause not longer than the lease');
      }
      endMs = s.atMs + s.durationMs;
    }
    if (endMs > timeMs - 3000) throw new Error(`seed ${seed}: no healthy tail`);
  }
  t.pass('50 schedules well formed');
});

t.test('every nemesis kind appears under all, none under none', async (t) => {
  const kinds = new Set(
    generateSchedule({ seed: 1, timeMs: 600_000, kinds: parseNemesisList('all') }).map(
      (s) => s.fault.kind,
    ),
  );
  t.same([...kinds].sort(), [...nemesisKinds].sort());
  t.same(generateSchedule({ seed: 1, timeMs: 600_000, kinds: parseNemesisList('none') }), []);
  t.same(parseNemesisList('kill,partition'), ['kill', 'partition']);
  t.throws(() => parseNemesisList('kill,meteor'));
});

t.test('the skew bound covers every clock fault', async (t) => {
  const steps = generateSchedule({
    seed: 3,
    timeMs: 600_000,
    kinds: ['clock'],
    clockOffsetMaxMs: 150,
  });
  const bound = scheduleSkewBoundMs(steps);
  for (const s of steps) {
    if (s.fault.kind === 'clock') t.ok(bound >= Math.abs(s.fault.offsetMs));
  }
  t.equal(scheduleSkewBoundMs([]), 0);
});

t.test('targeted nemeses are accepted by name but never part of all', async (t) => {
  t.same(parseNemesisList('delay-kill-leader,pause-isolate,kill-all'), [
    'delay-kill-leader',
    'pause-isolate',
    'kill-all',
  ]);
  t.notOk(parseNemesisList('all').includes('delay-kill-leader'));
  const steps = generateSchedule({ seed: 3, timeMs: 60_000, kinds: ['delay-kill-leader'] });
  t.ok(steps.length > 0);
  for (const s of steps) {
    t.equal(s.fault.kind, 'delay-kill-leader');
    if (s.fault.kind === 'delay-kill-leader')
      t.ok(s.fault.delayMs >= 200 && s.fault.delayMs <= 400);
  }
});
