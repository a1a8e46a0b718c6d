// The stall log: one warn line per slow fsync or held event loop, at most one per kind per
// second, the next line counting what was left out.
import t from 'tap';
import { StallLog } from '../../src/cli/serve/stall-log.js';

function setup() {
  const lines: Array<[Record<string, number>, string]> = [];
  let now = 1_000;
  const log = new StallLog(
    { warn: ((f: Record<string, number>, m: string) => lines.push([f, m])) as never },
    100,
    () => now,
  );
  return { lines, log, advance: (ms: number) => (now += ms) };
}

t.test('a slow fsync is one line; faster ones are not logged', async (t) => {
  const { lines, log, advance } = setup();
  log.fsync(99.9, 5);
  t.same(lines, []);
  log.fsync(150.4, 7);
  advance(300);
  log.fsync(120, 1); // within the second: counted, not logged
  log.fsync(130, 1);
  advance(800);
  log.fsync(101, 2);
  t.same(lines, [
    [{ ms: 150, entries: 7 }, 'slow log fsync'],
    [{ ms: 101, entries: 2, notLogged: 2 }, 'slow log fsync'],
  ]);
});

t.test('the loop timer reports how late it ran past its 50 ms', async (t) => {
  const { lines, log, advance } = setup();
  advance(50);
  log.checkLoop(); // on time
  advance(149);
  log.checkLoop(); // 99 ms late
  advance(290);
  log.checkLoop(); // 240 ms late
  advance(50);
  log.fsync(200, 3); // another kind: its own budget
  t.same(lines, [
    [{ ms: 240 }, 'event loop stalled'],
    [{ ms: 200, entries: 3 }, 'slow log fsync'],
  ]);
});
