import type { AllowOp, HistoryLine } from '../history/types.js';

/** A compact op description for hand-written fixtures: times in µs, ts in ms. */
export interface OpSpec {
  p: number;
  inv: number;
  /** Completion time; omitted (or with info: true) means indeterminate. */
  done?: number;
  info?: boolean;
  fail?: boolean;
  key?: string;
  rule?: string;
  limit?: number;
  windowMs?: number;
  cost?: number;
  requestId?: string;
  allowed?: boolean;
  remaining?: number;
  ts?: number;
  index?: number;
}

export function specOp(spec: OpSpec): AllowOp {
  const op: AllowOp = {
    rule: spec.rule ?? 'r',
    key: spec.key ?? 'k',
    limit: spec.limit ?? 2,
    windowMs: spec.windowMs ?? 100,
    cost: spec.cost ?? 1,
  };
  if (spec.requestId !== undefined) op.requestId = spec.requestId;
  return op;
}

/** Builds time-ordered history lines from op specs. */
export function buildHistory(specs: readonly OpSpec[]): HistoryLine[] {
  const lines: HistoryLine[] = [];
  for (const spec of specs) {
    const op = specOp(spec);
    lines.push({ kind: 'op', process: spec.p, type: 'invoke', op, timeUs: spec.inv });
    if (spec.done === undefined) continue;
    if (spec.info) {
      lines.push({
        kind: 'op',
        process: spec.p,
        type: 'info',
        op,
        timeUs: spec.done,
        error: 'timeout',
      });
    } else if (spec.fail) {
      lines.push({
        kind: 'op',
        process: spec.p,
        type: 'fail',
        op,
        timeUs: spec.done,
        error: 'invalid_key',
      });
    } else {
      lines.push({
        kind: 'op',
        process: spec.p,
        type: 'ok',
        op,
        timeUs: spec.done,
        result: {
          allowed: spec.allowed ?? true,
          remaining: spec.remaining ?? 0,
          ts: spec.ts ?? 0,
          index: spec.index ?? 0,
        },
      });
    }
  }
  // Stable sort keeps invoke before completion for equal times of one process.
  return lines
    .map((line, i) => ({ line, i }))
    .sort((a, b) => a.line.timeUs - b.line.timeUs || a.i - b.i)
    .map((x) => x.line);
}
