// The benchmark's summary arithmetic on fixed inputs: medians over rounds with min..max, ratios
// taken within each round before their median (not a ratio of medians), CPU per decision, the
// other processes' CPU in cores, and the rows and goal lines that go into the README.
import t from 'tap';
import type { LoadResult, PacedResult, WorkloadName } from '../../bench/http-load-types.js';
import {
  generatorCheckLines,
  goalLines,
  goals,
  type HalfRateRun,
  halfRateStallTable,
  halfRateTable,
  markdownTable,
  median,
  rotate,
  roundOrder,
  sameRoundRatio,
  spreadOf,
  summarize,
  type TargetName,
  type Turn,
} from '../../bench/http-report.js';

function load(workload: WorkloadName, decisionsPerS: number, p99Ms = 10): LoadResult {
  const elapsedS = 5;
  const ok2xx = decisionsPerS * elapsedS;
  return {
    spec: { url: 'http://127.0.0.1:1', workload, connections: 64, warmupS: 1, durationS: 5 },
    elapsedS,
    responses: ok2xx,
    ok2xx,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    allowed: workload === 'spread' ? ok2xx : 0,
    decisionsPerS,
    perSecond: { min: decisionsPerS, max: decisionsPerS, stddev: 0 },
    p50Ms: p99Ms / 4,
    p99Ms,
    p999Ms: p99Ms * 2,
    maxMs: p99Ms * 3,
    loadgenCpuS: 1,
  };
}

function turn(round: number, target: TargetName, workload: WorkloadName, rate: number): Turn {
  return {
    round,
    target,
    workload,
    load: load(workload, rate),
    // 5 s window; the target used 1 CPU-second, the rest of the machine 2.5 (0.5 cores).
    cpu: { windowS: 5, targetS: 1, leaderS: 0.5, followerS: 0.25, otherS: 2.5 },
  };
}

// Round 2 ran on a busy machine: both targets lost half their rate, their ratio did not move.
const turns: Turn[] = [
  turn(1, 'redis', 'spread', 1000),
  turn(1, 'drl', 'spread', 800),
  turn(2, 'redis', 'spread', 500),
  turn(2, 'drl', 'spread', 400),
  turn(3, 'redis', 'spread', 1000),
  turn(3, 'drl', 'spread', 600),
  turn(1, 'drl', 'hot', 4000),
  turn(2, 'drl', 'hot', 1000),
  turn(3, 'drl', 'hot', 3000),
  turn(1, 'bare', 'hot', 5000),
  turn(2, 'bare', 'hot', 2000),
  turn(3, 'bare', 'hot', 5000),
];

t.test('median and spread', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])));
  t.same(spreadOf([5, Number.NaN, 1, 3]), { median: 3, min: 1, max: 5, n: 3 });
  t.equal(spreadOf([Number.NaN]), undefined);
});

t.test('ratios are taken within a round, then their median', async (t) => {
  const r = sameRoundRatio(
    turns,
    { target: 'drl', workload: 'spread' },
    { target: 'redis', workload: 'spread' },
  );
  t.same(r, { median: 0.8, min: 0.6, max: 0.8, n: 3 });
  // The ratio of the medians would be 600 / 1000 = 0.6: not what is reported.
  const hot = sameRoundRatio(
    turns,
    { target: 'drl', workload: 'hot' },
    { target: 'bare', workload: 'hot' },
  );
  t.same(hot, { median: 0.6, min: 0.5, max: 0.8, n: 3 });
  t.equal(
    sameRoundRatio(
      turns,
      { target: 'drl', workload: 'spread' },
      { target: 'bare', workload: 'spread' },
    ),
    undefined,
    'no ratio without the other side',
  );
});

t.test('a round in which one side failed gives no ratio', async (t) => {
  const failed: Turn[] = [
    turn(1, 'redis', 'spread', 1000),
    { round: 1, target: 'drl', workload: 'spread', failure: 'load generator exited' },
    turn(2, 'redis', 'spread', 1000),
    turn(2, 'drl', 'spread', 900),
  ];
  const r = sameRoundRatio(
    failed,
    { target: 'drl', workload: 'spread' },
    { target: 'redis', workload: 'spread' },
  );
  t.same(r, { median: 0.9, min: 0.9, max: 0.9, n: 1 });
});

t.test('rows: medians, CPU per decision, other CPU in cores', async (t) => {
  const rows = summarize(turns, ['bare', 'redis', 'drl'], ['spread', 'hot']);
  const drlSpread = rows.find((r) => r.target === 'drl' && r.workload === 'spread')!;
  t.same(drlSpread.rate, { median: 600, min: 400, max: 800, n: 3 });
  t.same(drlSpread.vs.redis, { median: 0.8, min: 0.6, max: 0.8, n: 3 });
  // 0.5 CPU-s over 800/s x 5 s = 4,000 decisions is 125 µs each; 400/s gives 250 µs.
  t.same(drlSpread.leaderUsPerDecision, { median: 0.5e6 / 3000, min: 125, max: 250, n: 3 });
  t.same(drlSpread.otherCores, { median: 0.5, min: 0.5, max: 0.5, n: 3 });
  t.equal(drlSpread.p99Ms, 10);
  t.equal(drlSpread.allowed, drlSpread.ok2xx, 'spread: all allowed');
  const bareSpread = rows.find((r) => r.target === 'bare' && r.workload === 'spread')!;
  t.equal(bareSpread.failure, 'no result', 'a target with no turn in a workload');
  const table = markdownTable(rows);
  t.match(
    table,
    /^\| drl, 3-node Raft group \(leader\) \| 10k keys, allowed \| 600 \(400\.\.800\) \| 2\.50 \| 10\.0 \| 20\.0 \| 0\.80x \(0\.60x\.\.0\.80x\) \| — \| 333 \/ 167 \/ 83 \| 0\.50 \(0\.50\.\.0\.50\) \| 100\.0% \| 0 \|$/m,
  );
  t.match(
    table,
    /^\| bare fastify \(ceiling\) \| 10k keys, allowed \| not available \(no result\) \|/m,
  );
  t.notMatch(table, /vs base build/, 'no base column without --drl-base');
  const cols = (line: string) => line.split('|').length;
  const lines = table.split('\n');
  t.ok(
    lines.every((l) => cols(l) === cols(lines[0]!)),
    'every row has every column',
  );
});

t.test('goals and the half-rate table', async (t) => {
  const paced: PacedResult = {
    spec: {
      url: 'http://127.0.0.1:1',
      workload: 'hot',
      connections: 64,
      ratePerS: 1500,
      warmupS: 1,
      durationS: 5,
    },
    elapsedS: 5,
    scheduled: 7500,
    dropped: 0,
    ok2xx: 7500,
    non2xx: 0,
    errors: 0,
    allowed: 0,
    achievedPerS: 1500,
    p50Ms: 1.2,
    p99Ms: 4.5,
    p999Ms: 12,
    maxMs: 20,
    fromSend: { p50: 1, p99: 2, p999: 5, max: 9 },
    sendDelay: { p50: 0.1, p99: 1.5, p999: 2, max: 3 },
    sendLagMsMax: 3,
    generator: {
      loopDelayP99Ms: 0.5,
      loopDelayMaxMs: 2.5,
      gcCount: 3,
      gcTotalMs: 4,
      gcMaxMs: 2,
      cpuCores: 0.2,
      cpuS: 1,
    },
    loadgenCpuS: 1,
  };
  const half: HalfRateRun[] = [
    {
      target: 'drl',
      workload: 'hot',
      generator: 'raw',
      result: paced,
      cpu: { windowS: 5, targetS: 1, otherS: 0.5 },
      probe: {
        generatorRunQueueMs: 120.4,
        targetRunQueueMs: 80,
        leaderRunQueueMs: 50,
        leader: {
          loopDelayMaxMs: 7,
          fsyncs: 10,
          fsyncTotalMs: 20,
          fsyncMeanMs: 2,
          fsyncP99MsBound: 2.5,
          decisions: 7500,
          decisionMeanMs: 0.4,
          decisionP99MsBound: 1,
        },
      },
    },
  ];
  const g = goals(turns, half);
  t.same(g.spreadVsRedis, { median: 0.8, min: 0.6, max: 0.8, n: 3 });
  // hot/spread per round: 4000/800, 1000/400, 3000/600 = 5, 2.5, 5.
  t.same(g.hotVsSpread, { median: 5, min: 2.5, max: 5, n: 3 });
  t.equal(g.halfRateP99Ms, 4.5);
  const text = goalLines(g);
  t.match(
    text,
    /\(a\) drl spread \/ Redis spread: 0\.80x \(0\.60x\.\.0\.80x\) \(target >= 1\.00x: not met\)/,
  );
  t.match(
    text,
    /\(b\) drl hot \/ bare hot: 0\.60x \(0\.50x\.\.0\.80x\) \(target >= 0\.70x: not met\)/,
  );
  t.match(text, /4\.50 ms \(target <= 5 ms: met\)/);
  const table = halfRateTable([
    ...half,
    { target: 'redis', workload: 'hot', failure: 'no maximum rate measured' },
  ]);
  t.match(
    table,
    /\| paced, raw sockets \| 1,500 \| 1,500 \| 1\.20 \| 4\.50 \| 12\.0 \| 20\.0 \| 2\.00 \| 1\.50 \/ 3\.00 \| 0 \|\n.*not available \(no maximum rate measured\)/,
  );
  const cols = (line: string) => line.split(' | ').length;
  const rows = table.split('\n');
  t.equal(cols(rows[2]!), cols(rows[0]!), 'a measured row has every column');
  t.match(
    halfRateStallTable(half),
    /\| paced, raw sockets \| 0\.50 \/ 2\.50 \| 2\.00 \/ 4 \| 0\.20 \| 0\.10 \| 120 \/ 80 \(50\) \| 7\.00 \| 10, 2\.00 \/ ≤2\.50, 20 \| — \| — \| ≤1\.00 \|/,
  );
});

t.test('generator check: the bare p99 with each generator, ratio to the raw one', async (t) => {
  const paced = (p99Ms: number): PacedResult => ({
    spec: {
      url: 'u',
      workload: 'spread',
      connections: 64,
      ratePerS: 100,
      warmupS: 1,
      durationS: 5,
    },
    elapsedS: 5,
    scheduled: 500,
    dropped: 0,
    ok2xx: 500,
    non2xx: 0,
    errors: 0,
    allowed: 500,
    achievedPerS: 100,
    p50Ms: 1,
    p99Ms,
    p999Ms: p99Ms,
    maxMs: p99Ms,
    sendLagMsMax: 0,
    loadgenCpuS: 0.1,
  });
  const ac = load('spread', 100, 40);
  ac.spec.overallRate = 100;
  const runs: HalfRateRun[] = [
    { target: 'bare', workload: 'spread', generator: 'raw', result: paced(2) },
    { target: 'bare', workload: 'spread', generator: 'undici', result: paced(30) },
    { target: 'bare', workload: 'spread', generator: 'autocannon', closed: ac },
    { target: 'drl', workload: 'spread', generator: 'raw', result: paced(9) },
  ];
  t.match(
    generatorCheckLines(runs),
    /bare 10k keys, allowed: raw sockets p99 2\.00 ms \(from send —\); undici Pool p99 30\.0 ms \(15\.00x the raw one\); autocannon overallRate p99 40\.0 ms from send/,
  );
  t.equal(generatorCheckLines(runs.slice(3)), '', 'nothing to compare without bare');
  t.match(
    halfRateTable(runs),
    /autocannon overallRate \| 100 \| 100 \| — \| — \| — \| — \| 40\.0 \| — \| 0 \|/,
  );
});

t.test('rotate: each round starts with the next target', async (t) => {
  t.same(rotate(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  t.same(rotate(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
  t.same(rotate(['a', 'b', 'c'], 4), ['b', 'c', 'a']);
  t.same(rotate([], 3), []);
  t.same(rotate(['a', 'b', 'c'], -1), ['c', 'a', 'b']);
});

t.test(
  'roundOrder: no target has two turns in a row across rounds, warm-up included',
  async (t) => {
    for (const items of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]) {
      const flat: string[] = [];
      for (let round = -1; round <= 6; round++) flat.push(...roundOrder(items, round));
      const repeats = flat.filter((x, i) => i > 0 && x === flat[i - 1]);
      t.same(repeats, items.length === 1 ? flat.slice(1) : [], `${items.length} targets`);
      for (let round = 1; round <= 6; round++) t.same([...roundOrder(items, round)].sort(), items);
    }
    t.same(roundOrder(['a', 'b', 'c'], 2), ['b', 'c', 'a'], 'three rotate');
    t.same(roundOrder(['a', 'b'], 2), ['a', 'b'], 'two keep their order');
  },
);

t.test('roundOrder alternate: two targets swap every round, each as often first', async (t) => {
  const firsts: string[] = [];
  for (let round = 1; round <= 6; round++) {
    const order = roundOrder(['a', 'b'], round, 'alternate');
    t.same([...order].sort(), ['a', 'b'], `round ${round} has both`);
    firsts.push(order[0]!);
  }
  t.same(firsts, ['a', 'b', 'a', 'b', 'a', 'b'], 'A B, then B A, ...');
  t.same(roundOrder(['a', 'b', 'c'], 2, 'alternate'), ['b', 'c', 'a'], 'three still rotate');
  t.same(roundOrder(['a'], 2, 'alternate'), ['a'], 'one target');
});
