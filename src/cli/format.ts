/** Human output: aligned tables and one-line decision summaries. */
import type { ClientDecision } from '../client/index.js';

export function table(headers: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function decisionLine(d: ClientDecision): string {
  const parts = [
    d.allowed ? 'allowed' : 'denied',
    `remaining=${d.remaining}/${d.limit}`,
    `resetMs=${d.resetMs}`,
  ];
  if (!d.allowed) parts.push(`retryAfterMs=${d.retryAfterMs === null ? 'never' : d.retryAfterMs}`);
  parts.push(`index=${d.index ?? '-'}`, `ts=${d.ts ?? '-'}`);
  return parts.join('  ');
}
