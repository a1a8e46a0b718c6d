import t from 'tap';
import { DecisionClock, median } from '../../src/cli/serve/decision-clock.js';
import { parseSkew, SkewedTime } from '../../src/cli/serve/test-clock.js';

function harness(selfNow: { v: number }) {
  const mono = { v: 1000 };
  const clock = new DecisionClock(
    'a',
    () => selfNow.v,
    () => mono.v,
    500,
  );
  return { clock, mono };
}

t.test(
  'the median of the voters decides: a leader whose clock jumps +1h moves nothing',
  async (t) => {
    const self = { v: 10_000 };
    const { clock, mono } = harness(self);
    clock.observe('b', 10_005);
    clock.observe('c', 9_998);
    t.equal(clock.next(['a', 'b', 'c']), 10_000);
    self.v += 3_600_000;
    mono.v += 10;
    clock.observe('b', 10_015);
    clock.observe('c', 10_008);
    const ts = clock.next(['a', 'b', 'c']);
    t.ok(ts >= 10_000 && ts <= 10_020, `ts ${ts} stays with the healthy clocks`);
  },
);

t.test('ts never decreases, even when every clock goes backwards', async (t) => {
  const self = { v: 50_000 };
  const { clock } = harness(self);
  clock.witness(60_000);
  t.equal(clock.next(['a']), 60_000);
  self.v = 70_000;
  t.equal(clock.next(['a']), 70_000);
  self.v = 1;
  t.equal(clock.next(['a']), 70_000);
});

t.test(
  'a sample extrapolates by at most the cap, so a jump of OUR clock moves nothing',
  async (t) => {
    const self = { v: 10_000 };
    const { clock, mono } = harness(self);
    clock.observe('b', 10_000);
    clock.observe('c', 10_002);
    mono.v += 100;
    self.v += 100;
    t.equal(clock.next(['a', 'b', 'c']), 10_100, 'extrapolated by the elapsed time');
    mono.v += 3_600_000;
    self.v += 3_600_000;
    const ts = clock.next(['a', 'b', 'c']);
    t.ok(ts <= 10_502, `a +1 h jump of our own clocks moves ts by at most the cap (${ts})`);
  },
);

t.test('median takes the lower middle of an even count', async (t) => {
  t.equal(median([4, 1, 3, 2]), 2);
  t.equal(median([7]), 7);
  t.equal(median(new Float64Array([9, 4, 1, 3, 2]), 4), 3, 'the first count values of a scratch');
  t.throws(() => median([]));
});

t.test(
  'skewed time: offset jumps, rate changes are continuous, readings never decrease',
  async (t) => {
    const s = new SkewedTime(0);
    t.equal(s.at(100), 100);
    s.set({ offsetMs: 3_600_000, rate: 1 }, 100);
    t.equal(s.at(100), 3_600_100);
    s.set({ offsetMs: 3_600_000, rate: 2 }, 200);
    t.equal(s.at(200), 3_600_200);
    t.equal(s.at(300), 3_600_400);
    s.set({ offsetMs: 0, rate: 2 }, 300);
    t.equal(s.at(300), 3_600_400, 'a backwards jump stalls the clock');
    t.equal(s.at(1_800_200), 3_600_400);
    t.ok(s.at(1_800_400) > 3_600_400);
  },
);

t.test('a test clock file must be JSON with a sane rate', async (t) => {
  t.same(parseSkew('{"offsetMs": 5}', 'f'), { offsetMs: 5, rate: 1 });
  t.throws(() => parseSkew('nope', 'f'), { code: 'invalid_argument' });
  t.throws(() => parseSkew('{"rate": 0}', 'f'), { code: 'invalid_argument' });
});
