import t from 'tap';
import { badFixtures, goodFixtures } from '../gen/fixtures.js';
import { buildHistory } from '../gen/history-builder.js';
import { checkHistory, summaryLine } from './check-history.js';

for (const fixture of badFixtures) {
  t.test(`bad: ${fixture.name}`, async (t) => {
    const report = checkHistory(fixture.lines);
    t.equal(report.result, 'fail', summaryLine(report));
    if (fixture.expect === 'ok') throw new Error('bad fixture expects ok');
    if (fixture.expect.linearizability)
      t.equal(report.linearizability.result, 'fail', 'linearizability');
    if (fixture.expect.witness) t.equal(report.witness.result, 'fail', 'witness');
    if (fixture.expect.admission) t.equal(report.admission.result, 'fail', 'admission');
  });
}

for (const fixture of goodFixtures) {
  t.test(`good: ${fixture.name}`, async (t) => {
    const report = checkHistory(fixture.lines);
    t.equal(report.linearizability.result, 'ok', 'linearizability');
    t.equal(report.witness.result, 'ok', JSON.stringify(report.witness.violations));
    t.equal(report.admission.result, 'ok', JSON.stringify(report.admission.violations));
    t.equal(report.result, 'ok');
  });
}

t.test('a failure names the culprit and a sub-history with model states', async (t) => {
  const stale = badFixtures.find((f) => f.name === 'stale read')!;
  const report = checkHistory(stale.lines);
  const key = report.linearizability.keys[0]!;
  t.equal(key.result, 'fail');
  t.same(key.failure?.culprit, [2], 'the third call cannot be linearized');
  t.ok(key.failure!.subHistory.includes(2));
  t.ok(key.failure!.trace.length >= 1);
  t.match(key.failure!.stateAtStuck, /1@10 1@20/);
  t.match(summaryLine(report), /^jepsen-lite: FAIL /);
});

t.test('the search says unknown, never ok, when out of budget', async (t) => {
  const good = goodFixtures.find((f) => f.name === 'concurrent ops ordered by their ts')!;
  const report = checkHistory(good.lines, { stepsPerKeyMax: 0 });
  t.equal(report.linearizability.result, 'unknown');
  t.equal(report.result, 'unknown');
});

t.test(
  'indeterminate counts ops, not calls: an id answered by a retry is determinate',
  async (t) => {
    const lines = buildHistory([
      { p: 0, inv: 0, done: 50, requestId: 'q1', info: true },
      { p: 1, inv: 100, done: 200, requestId: 'q1', allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 2, inv: 300, done: 350, requestId: 'q2', info: true },
      { p: 3, inv: 400, done: 450, requestId: 'q2', info: true },
      { p: 4, inv: 500, done: 550, info: true },
    ]);
    const report = checkHistory(lines);
    t.equal(report.counts.info, 4, 'four info calls');
    t.equal(report.counts.indeterminate, 2, 'q2 (never answered) and the op without an id');
    t.match(summaryLine(report), / info=4 fail=0 indeterminate=2 /);
  },
);

t.test('a node that crashed fails an otherwise clean run and is named', async (t) => {
  const good = goodFixtures[0]!;
  t.equal(checkHistory(good.lines).result, 'ok');
  const detail = 'exit 1: error: storage_corrupt: the state machine has applied entry 4000';
  const crashed = [
    ...good.lines,
    { kind: 'node' as const, node: 'n2', role: 'crashed', detail, timeUs: 1 },
  ];
  const report = checkHistory(crashed);
  t.equal(report.result, 'fail');
  t.equal(report.crashes.length, 1);
  t.match(summaryLine(report), /crashed=n2 \(exit 1: error: storage_corrupt: /);
  const down = [...good.lines, { kind: 'node' as const, node: 'n2', role: 'down', timeUs: 1 }];
  t.equal(checkHistory(down).result, 'ok', 'a node the runner killed is down, not crashed');
});
