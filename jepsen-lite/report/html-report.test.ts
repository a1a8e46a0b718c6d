import t from 'tap';
import { checkHistory } from '../checker/check-history.js';
import { badFixtures } from '../gen/fixtures.js';
import { generateHistory } from '../gen/generate-history.js';
import type { HistoryLine } from '../history/types.js';
import { renderHtmlReport } from './html-report.js';

t.test('a report on a good history is one self-contained file', async (t) => {
  const lines: HistoryLine[] = generateHistory({ seed: 3, ops: 300 });
  lines.push({ kind: 'nemesis', phase: 'start', name: 'partition', timeUs: 50_000 });
  lines.push({ kind: 'nemesis', phase: 'stop', name: 'partition', timeUs: 90_000 });
  lines.sort((a, b) => a.timeUs - b.timeUs);
  const html = renderHtmlReport(lines, checkHistory(lines), 'good <run>');
  t.match(html, /^<!doctype html>/);
  t.match(html, /good &lt;run&gt;/, 'title escaped');
  t.match(html, /jepsen-lite: OK/);
  t.match(html, /class="fault"/, 'fault phase shaded');
  t.notMatch(html, /<script|<link|src="http|href="http/, 'no external assets');
  t.match(html, /No linearizability violation/);
});

t.test('a report on a bad history highlights the failing sub-history with states', async (t) => {
  const stale = badFixtures.find((f) => f.name === 'stale read')!;
  const html = renderHtmlReport(stale.lines, checkHistory(stale.lines));
  t.match(html, /jepsen-lite: FAIL/);
  t.match(html, /class="culprit"/);
  t.match(html, /not linearizable/);
  t.match(html, /1@10 1@20/, 'model state shown');
  t.match(html, /over-admission/);
});
