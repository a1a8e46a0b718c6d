import t from 'tap';
import { badFixtures, goodFixtures } from '../gen/fixtures.js';
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
