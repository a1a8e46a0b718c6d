import t from 'tap';
import { arrivalMs } from '../../bench/raft-load.js';

t.test(
  'arrivals come in 1 ms ticks: each tick brings what a uniform schedule put before it',
  async (t) => {
    t.same(
      Array.from({ length: 12 }, (_, i) => arrivalMs(i, 10_000)),
      [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2],
    );
    // 70 * 0.1 is 7.000000000000001 in floating point; the tick is still 7.
    t.equal(arrivalMs(70, 10_000), 7);
    t.equal(arrivalMs(3, 3000), 1);
    // The generator's due count at tick k (fixedRate) issues exactly the entries arrived by then.
    for (const rate of [10_000, 3000, 700]) {
      for (let tick = 0; tick < 50; tick++) {
        const due = Math.floor((tick * rate) / 1000) + 1;
        t.ok(
          arrivalMs(due - 1, rate) <= tick,
          `rate ${rate} tick ${tick}: the last due has arrived`,
        );
        t.ok(arrivalMs(due, rate) > tick, `rate ${rate} tick ${tick}: the next has not`);
      }
    }
  },
);
