// The --trace report's arithmetic on synthetic input: segments join by log index and sum to
// each request's latency from its due time, the bands, the quorum's maker, the dominant
// segment, episodes, and the loop-held and CPU-wait attribution.
import t from 'tap';
import { answerIndex } from '../../bench/http-answer-index.js';
import type { PacedTrace } from '../../bench/http-load-types.js';
import { type SchedTimeline, schedWithin } from '../../bench/http-sched-sampler.js';
import {
  analyze,
  bands,
  criticalPath,
  diskFloor,
  dominant,
  episodes,
  type HttpTraceInput,
  heldBy,
  type NodeTrace,
  quorumOf,
  segmentCauses,
  traceReport,
} from '../../bench/http-trace-report.js';
import { TraceStage as S } from '../../src/raft/driver/entry-trace.js';

const n = 1000;
const lo = 501;

/**
 * Request k (index lo + k) is due at 10k ms; every stage takes 0.1 ms except: the leader's
 * fsync 1 ms, n2's ack arrives 0.5 ms after the leader's fsync, n3's 5 ms after it. The 10
 * slowest (k = 990..999) wait `stallMs` between their write and the leader's handler.
 */
function synthetic(stallMs: number): HttpTraceInput {
  const generator: PacedTrace = { due: [], sent: [], answered: [], index: [] };
  const stages = (keys: (string | number)[]) =>
    Object.fromEntries(keys.map((k) => [String(k), new Array<number>(n).fill(0)]));
  const L: NodeTrace = {
    id: 'n1',
    lo,
    hi: lo + n - 1,
    stages: stages([
      'http.entered',
      S.proposed,
      S.ready,
      S.sent,
      S.persisted,
      `${S.acked}:n2`,
      `${S.acked}:n3`,
      S.committed,
      S.applied,
      'http.decided',
      'http.written',
    ]),
    events: [],
  };
  const follower = (id: string): NodeTrace => ({
    id,
    lo,
    hi: lo + n - 1,
    stages: stages([S.received, S.ready, S.persisted, S.respSent]),
  });
  const F2 = follower('n2');
  const F3 = follower('n3');
  for (let k = 0; k < n; k++) {
    const due = 10 * k + 1000;
    const sent = due + 0.1;
    const entered = sent + 0.1 + (k >= 990 ? stallMs : 0);
    const proposed = entered + 0.1;
    const ready = proposed + 0.1;
    const onWire = ready + 0.1;
    const persisted = onWire + 1;
    const set = (node: NodeTrace, key: string | number, v: number) => {
      node.stages[String(key)]![k] = v;
    };
    set(L, 'http.entered', entered);
    set(L, S.proposed, proposed);
    set(L, S.ready, ready);
    set(L, S.sent, onWire);
    set(L, S.persisted, persisted);
    for (const [F, ackAt] of [
      [F2, persisted + 0.5],
      [F3, persisted + 5],
    ] as const) {
      set(F, S.received, onWire + 0.1);
      set(F, S.ready, onWire + 0.2);
      set(F, S.persisted, ackAt - 0.2);
      set(F, S.respSent, ackAt - 0.1);
      set(L, `${S.acked}:${F.id}`, ackAt);
    }
    const committed = persisted + 0.5;
    set(L, S.committed, committed);
    set(L, S.applied, committed + 0.1);
    set(L, 'http.decided', committed + 0.2);
    set(L, 'http.written', committed + 0.3);
    generator.due.push(due);
    generator.sent.push(sent);
    generator.answered.push(committed + 0.4);
    generator.index.push(lo + k);
  }
  // The leader fsyncs during the stall of k = 990..999 (due 10900..10990).
  L.events = [
    ['fsync', 10_905, 10_915],
    ['gc', 10_920, 10_922],
    ['fsync', 20_000, 20_001],
  ];
  return { generator, nodes: [L, F2, F3], leaderId: 'n1' };
}

t.test('segments join by index and sum to the latency from the due time', async (t) => {
  const a = analyze(synthetic(40));
  t.equal(a.rows.length, n);
  t.equal(a.incomplete, 0);
  const off = a.rows.filter((r) => Math.abs(r.path.reduce((x, y) => x + y, 0) - r.totalMs) > 1e-6);
  t.equal(off.length, 0, 'every row: segments sum to answered - due');
  const r0 = a.rows[0]!;
  t.equal(r0.quorum, 'L+n2', 'the leader and the faster follower made the quorum');
  const replication = criticalPath.indexOf(
    'Apps on the wire -> quorum (2nd of leader fsync, acks)',
  );
  t.ok(Math.abs(r0.path[replication]! - 1.5) < 1e-9, 'Apps on the wire -> n2 acked: 1.5 ms');
  t.ok(Math.abs(r0.totalMs - 2.4) < 1e-9, `total 2.4 ms (${r0.totalMs})`);
  t.ok(Math.abs(r0.parallel[0]! - 1) < 1e-9, 'leader fsync 1 ms (parallel detail)');
});

t.test('bands, dominant segment and episodes', async (t) => {
  const input = synthetic(40);
  const { median, slow } = bands(analyze(input).rows);
  t.equal(slow.length, 10, 'slowest 1 % of 1000');
  t.ok(
    slow.every((r) => r.tag >= 990),
    'the stalled ones',
  );
  t.equal(median.length, 100);
  const d = dominant(median, slow);
  t.equal(criticalPath[d.largest], 'written -> leader /allow handler entered');
  t.equal(criticalPath[d.grew], 'written -> leader /allow handler entered');
  t.ok(Math.abs(d.slowMeans[d.largest]! - 40.1) < 1e-9);
  const eps = episodes(slow, 50);
  t.equal(eps.length, 1, 'one episode');
  t.equal(eps[0]!.n, 10);
  t.equal(eps[0]!.fromMs, 10_900);
  t.equal(eps[0]!.toMs, 10_990);
  t.equal(episodes(slow, 5).length, 10, 'a smaller gap splits them');
  const held = heldBy(input.nodes[0]!, 10_900, 10_990 + 43);
  t.same(
    [...held],
    [
      ['fsync', 10],
      ['gc', 2],
    ],
  );
  const lines = traceReport(input);
  t.match(lines[0], /1000 requests joined by log index \(0 incomplete\)/);
  t.ok(lines.some((l) => l.includes('largest segment "written -> leader /allow handler entered"')));
  t.ok(lines.some((l) => /quorum made by: median L\+n2 100%/.test(l)));
});

t.test('a request whose stage was not recorded is counted incomplete', async (t) => {
  const input = synthetic(0);
  input.nodes[0]!.stages[String(S.persisted)]![3] = 0;
  input.nodes[0]!.stages[`${S.acked}:n2`]![4] = 0;
  input.nodes[0]!.stages[`${S.acked}:n3`]![4] = 0;
  const a = analyze(input);
  t.equal(a.incomplete, 2);
  t.equal(a.rows.length, n - 2);
  input.generator.index.fill(0);
  t.match(traceReport(input)[0], /only 0 complete requests/);
});

t.test('quorumOf takes the second of the members that reached it', async (t) => {
  t.same(
    quorumOf([
      ['L', 5],
      ['n2', 3],
      ['n3', 9],
    ]),
    [5, 'n2+L'],
  );
  t.same(
    quorumOf([
      ['L', 5],
      ['n2', 0],
    ]),
    [0, '-'],
  );
});

t.test('CPU wait within a window, interpolated from cumulative samples', async (t) => {
  const line: SchedTimeline = {
    id: 'n1',
    pid: 1,
    samples: [
      [100, 0, 0],
      [110, 4, 6],
      [120, 14, 6],
    ],
  };
  t.same(schedWithin(line, 105, 115), { runMs: 7, waitMs: 3 });
  t.same(schedWithin(line, 90, 130), { runMs: 14, waitMs: 6 }, 'clamped to the sampled span');
  t.equal(schedWithin({ ...line, samples: [] }, 100, 110), null);
  const input = synthetic(40);
  input.sched = [
    line,
    {
      id: 'generator',
      pid: 2,
      samples: [
        [0, 0, 0],
        [1e6, 0, 0],
      ],
    },
  ];
  // Leader waits 0.6 ms per ms from 100 to 110: outside every request, so nothing is charged.
  t.match(
    traceReport(input).join('\n'),
    /slowest 1 % \(\d+\.\d+ ms\): segment owner waiting for a CPU 0\.00/,
  );
});

t.test('each segment is charged its owner CPU wait and events', async (t) => {
  const input = synthetic(40);
  // The leader waits half of every ms from 10,900 to 12,000 (the stalled requests' span).
  input.sched = [
    {
      id: 'n1',
      pid: 1,
      samples: [
        [10_900, 0, 0],
        [12_000, 550, 550],
      ],
    },
    {
      id: 'generator',
      pid: 2,
      samples: [
        [0, 0, 0],
        [1e6, 0, 0],
      ],
    },
  ];
  const { slow } = bands(analyze(input).rows);
  const causes = segmentCauses(input, slow);
  const stalled = criticalPath.indexOf('written -> leader /allow handler entered');
  t.ok(
    Math.abs(causes[stalled]!.cpuWait - 20.05) < 1e-6,
    `half of 40.1 ms (${causes[stalled]!.cpuWait})`,
  );
  t.ok(Math.abs(causes[stalled]!.cpuRun - 20.05) < 1e-6);
  t.equal(causes[0]!.cpuWait, 0, 'the generator waited for nothing');
  t.ok(
    Number.isNaN(
      causes[criticalPath.indexOf('Apps on the wire -> quorum (2nd of leader fsync, acks)')]!
        .cpuWait,
    ),
    'n2 (the quorum completer) was not sampled',
  );
  // Requests 990.. wait in that segment from 10,900.1 + 10 j to 10,940.2 + 10 j: fsync
  // 10,905-10,915 covers 10 ms of 990's and 4.9 of 991's; gc 10,920-10,922 2 + 2 + 1.9 ms.
  const held = causes[stalled]!.held;
  t.ok(Math.abs(held.get('fsync')! - 1.49) < 1e-6, `fsync 14.9 ms over 10 (${held.get('fsync')})`);
  t.ok(Math.abs(held.get('gc')! - 0.59) < 1e-6, `gc 5.9 ms over 10 (${held.get('gc')})`);
});

t.test('disk floor: requests due while a quorum sat in fsyncs with >= 5 ms left', async (t) => {
  const input = synthetic(40);
  const [, F2, F3] = input.nodes;
  // With the leader's 10,905-10,915: a quorum 10,905-10,915 (L+n2) and 10,925-10,930
  // (n2+n3), both >= 5 ms; 20,000-20,001 (L+n3) is shorter and does not count.
  F2!.events = [['fsync', 10_900, 10_930]];
  F3!.events = [
    ['fsync', 10_925, 10_945],
    ['fsync', 20_000, 20_003],
  ];
  const r = diskFloor(input, 5);
  t.equal(r.windows, 2);
  t.equal(r.totalMs, 15);
  t.equal(r.longestMs, 10);
  // Due every 10 ms: 10,910 is inside the first with 5 ms left; 10,900, 10,920 and 10,930 not.
  t.equal(r.delayed, 1);
  t.equal(r.committed, n);
  t.match(
    traceReport(input).join('\n'),
    /disk floor: .* 2 window\(s\), 15\.0 ms .* 1 of 1000 requests \(0\.10 %\)/,
  );
  F2!.events = [];
  t.equal(diskFloor(input, 5).windows, 0, 'the leader alone is no quorum');
});

t.test('answerIndex reads "index":N from an answer body', async (t) => {
  t.equal(answerIndex(Buffer.from('{"allowed":true,"index":12345,"ts":1}')), 12345);
  t.equal(answerIndex(Buffer.from('{"allowed":true}')), 0);
  t.equal(answerIndex(Buffer.from('{"index":}')), 0);
});
