import type { CheckReport } from '../checker/check-history.js';
import { summaryLine } from '../checker/check-history.js';
import type { KeyVerdict } from '../checker/linearizability.js';
import type { Call, HistoryLine, NemesisEvent, NodeEvent } from '../history/types.js';

/**
 * One self-contained HTML file (inline CSS and SVG, no external assets): per-node timeline
 * (roles, faults, ops), latency over time with fault phases shaded, availability per phase,
 * and for each violation the smallest failing sub-history with model states.
 */

const widthPx = 1100;
const opsDrawnMax = 20_000;

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

interface Span {
  startUs: number;
  endUs: number;
}

function timeSpan(lines: readonly HistoryLine[]): Span {
  let startUs = Number.POSITIVE_INFINITY;
  let endUs = 0;
  for (const l of lines) {
    startUs = Math.min(startUs, l.timeUs);
    endUs = Math.max(endUs, l.timeUs);
  }
  if (!Number.isFinite(startUs)) startUs = 0;
  return { startUs, endUs: Math.max(endUs, startUs + 1) };
}

function faultIntervals(
  lines: readonly HistoryLine[],
  span: Span,
): { name: string; startUs: number; endUs: number }[] {
  const open = new Map<string, number>();
  const out: { name: string; startUs: number; endUs: number }[] = [];
  const nemesis = lines.filter((l): l is NemesisEvent => l.kind === 'nemesis');
  for (const ev of nemesis) {
    if (ev.phase === 'start') open.set(ev.name, ev.timeUs);
    else {
      const startUs = open.get(ev.name);
      if (startUs !== undefined) out.push({ name: ev.name, startUs, endUs: ev.timeUs });
      open.delete(ev.name);
    }
  }
  for (const [name, startUs] of open) out.push({ name, startUs, endUs: span.endUs });
  return out;
}

function statusColor(c: Call): string {
  if (c.status === 'ok') return c.result?.allowed ? '#2e9d4a' : '#8fb39a';
  return c.status === 'info' ? '#e69a28' : '#c8372d';
}

function timeline(
  lines: readonly HistoryLine[],
  report: CheckReport,
  span: Span,
  x: (us: number) => number,
): string {
  const nodes = [...new Set(report.calls.map((c) => c.node ?? 'client'))].sort();
  const rowPx = 34;
  const heightPx = nodes.length * rowPx + 20;
  const parts: string[] = [];
  for (const f of faultIntervals(lines, span)) {
    parts.push(
      `<rect x="${x(f.startUs)}" y="0" width="${Math.max(1, x(f.endUs) - x(f.startUs))}" height="${heightPx}" class="fault"><title>${esc(f.name)}</title></rect>`,
    );
  }
  const roles = lines.filter((l): l is NodeEvent => l.kind === 'node');
  nodes.forEach((node, row) => {
    const y = row * rowPx;
    parts.push(`<text x="2" y="${y + 20}" class="lbl">${esc(node)}</text>`);
    const mine = roles.filter((r) => r.node === node);
    mine.forEach((r, i) => {
      const endUs = mine[i + 1]?.timeUs ?? span.endUs;
      if (r.role !== 'leader') return;
      parts.push(
        `<rect x="${x(r.timeUs)}" y="${y + 2}" width="${Math.max(1, x(endUs) - x(r.timeUs))}" height="6" class="leader"><title>leader term ${r.term ?? '?'}</title></rect>`,
      );
    });
  });
  const step = Math.max(1, Math.ceil(report.calls.length / opsDrawnMax));
  for (let i = 0; i < report.calls.length; i += step) {
    const c = report.calls[i]!;
    const row = nodes.indexOf(c.node ?? 'client');
    const end = Number.isFinite(c.completeUs) ? c.completeUs : span.endUs;
    parts.push(
      `<rect x="${x(c.invokeUs)}" y="${row * rowPx + 10 + (c.process % 4) * 5}" width="${Math.max(1, x(end) - x(c.invokeUs))}" height="4" fill="${statusColor(c)}"/>`,
    );
  }
  return `<svg width="${widthPx + 80}" height="${heightPx}" viewBox="-80 0 ${widthPx + 80} ${heightPx}">${parts.join('')}</svg>`;
}

function latencyChart(
  lines: readonly HistoryLine[],
  report: CheckReport,
  span: Span,
  x: (us: number) => number,
): string {
  const heightPx = 200;
  const answered = report.calls.filter((c) => Number.isFinite(c.completeUs));
  let maxMs = 1;
  for (const c of answered) maxMs = Math.max(maxMs, (c.completeUs - c.invokeUs) / 1000);
  const y = (ms: number): number =>
    heightPx - 10 - (Math.log10(1 + ms) / Math.log10(1 + maxMs)) * (heightPx - 20);
  const parts: string[] = [];
  for (const f of faultIntervals(lines, span)) {
    parts.push(
      `<rect x="${x(f.startUs)}" y="0" width="${Math.max(1, x(f.endUs) - x(f.startUs))}" height="${heightPx}" class="fault"><title>${esc(f.name)}</title></rect>`,
    );
  }
  const step = Math.max(1, Math.ceil(answered.length / opsDrawnMax));
  for (let i = 0; i < answered.length; i += step) {
    const c = answered[i]!;
    parts.push(
      `<circle cx="${x(c.invokeUs)}" cy="${y((c.completeUs - c.invokeUs) / 1000)}" r="1.5" fill="${statusColor(c)}"/>`,
    );
  }
  parts.push(`<text x="2" y="12" class="lbl">${maxMs.toFixed(1)} ms (log scale)</text>`);
  return `<svg width="${widthPx}" height="${heightPx}">${parts.join('')}</svg>`;
}

function callRow(c: Call, highlight: boolean, startUs: number): string {
  const r = c.result;
  const res = r
    ? `${r.allowed ? 'granted' : 'denied'} rem=${r.remaining} ts=${r.ts} idx=${r.index}`
    : esc(c.error ?? c.status);
  const done = Number.isFinite(c.completeUs) ? ((c.completeUs - startUs) / 1000).toFixed(3) : '∞';
  return `<tr class="${highlight ? 'culprit' : ''}"><td>${c.id}</td><td>${c.process}</td><td>${esc(c.node ?? '')}</td><td>${((c.invokeUs - startUs) / 1000).toFixed(3)}</td><td>${done}</td><td>cost=${c.op.cost} limit=${c.op.limit} w=${c.op.windowMs}${c.op.requestId ? ` id=${esc(c.op.requestId)}` : ''}</td><td>${c.status}</td><td>${res}</td></tr>`;
}

function keyFailure(k: KeyVerdict, report: CheckReport, startUs: number): string {
  const f = k.failure;
  if (f === undefined) return '';
  const culprit = new Set(f.culprit);
  const rows = f.subHistory
    .map((id) => callRow(report.calls[id]!, culprit.has(id), startUs))
    .join('');
  const trace = f.trace
    .map(
      (t) =>
        `<tr><td>${t.calls.join(',')}</td><td>${esc(t.before)}</td><td>${esc(t.after)}</td></tr>`,
    )
    .join('');
  return `<h3>${esc(k.rule)}/${esc(k.key)}: not linearizable</h3>
<p>Call ${f.culprit.join(',')} (highlighted) cannot be linearized by the time it returned. Times in ms since start; model state = grants as cost@ts (uncertain ts as an interval).</p>
<table><tr><th>call</th><th>proc</th><th>node</th><th>invoke</th><th>complete</th><th>op</th><th>status</th><th>result</th></tr>${rows}</table>
<p>Deepest partial linearization (tail) with model state before/after each op; stuck at: <code>${esc(f.stateAtStuck)}</code></p>
<table><tr><th>calls</th><th>before</th><th>after</th></tr>${trace}</table>`;
}

function phaseTable(report: CheckReport, startUs: number): string {
  const rows = report.availability.phases
    .map(
      (p) =>
        `<tr><td>${esc(p.label)}</td><td>${((p.startUs - startUs) / 1e6).toFixed(2)}</td><td>${((p.endUs - startUs) / 1e6).toFixed(2)}</td><td>${p.ops}</td><td>${(p.okFraction * 100).toFixed(1)}%</td></tr>`,
    )
    .join('');
  const faults = report.availability.faults
    .map(
      (f) =>
        `<tr><td>${esc(f.name)}</td><td>${((f.startUs - startUs) / 1e6).toFixed(2)}</td><td>${(f.longestGapUs / 1000).toFixed(1)}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>phase</th><th>from s</th><th>to s</th><th>ops</th><th>ok</th></tr>${rows}</table>
<table><tr><th>fault</th><th>at s</th><th>longest unavailability ms</th></tr>${faults}</table>`;
}

export function renderHtmlReport(
  lines: readonly HistoryLine[],
  report: CheckReport,
  title = 'jepsen-lite report',
): string {
  const span = timeSpan(lines);
  const x = (us: number): number =>
    Math.round(((us - span.startUs) / (span.endUs - span.startUs)) * widthPx * 10) / 10;
  const failures = report.linearizability.keys
    .filter((k) => k.failure)
    .map((k) => keyFailure(k, report, span.startUs))
    .join('');
  const others = [...report.witness.violations, ...report.admission.violations]
    .map(
      (v) =>
        `<li><b>${esc(v.kind)}</b>: ${esc(v.message)} (calls ${v.calls.slice(0, 20).join(', ')})</li>`,
    )
    .join('');
  const unknown = report.linearizability.keys
    .filter((k) => k.result === 'unknown')
    .map((k) => `<li>${esc(k.rule)}/${esc(k.key)}: ${esc(k.reason ?? '')}</li>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
.verdict-ok{color:#2e7d32}.verdict-fail{color:#c62828}.verdict-unknown{color:#b26a00}
svg{border:1px solid #ddd;margin:4px 0;background:#fcfcfc}.lbl{font:11px monospace;fill:#333}
.fault{fill:#e53935;fill-opacity:.12}.leader{fill:#1e63c4}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 6px;font:12px monospace}
tr.culprit td{background:#ffd6d2;font-weight:bold}code{background:#f3f3f3;padding:1px 3px}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="verdict-${report.result}"><b>${esc(summaryLine(report))}</b></p>
<h2>Timeline per node</h2><p>Bars: ops (green granted, pale denied, orange indeterminate, red failed), blue: leader, red shade: faults.</p>
${timeline(lines, report, span, x)}
<h2>Latency over time</h2>${latencyChart(lines, report, span, x)}
<h2>Availability</h2>${phaseTable(report, span.startUs)}
<h2>Violations</h2>${failures || '<p>No linearizability violation.</p>'}
${others ? `<ul>${others}</ul>` : '<p>No witness or admission violation.</p>'}
${unknown ? `<h3>Undecided keys (budget)</h3><ul>${unknown}</ul>` : ''}
</body></html>
`;
}
