import { groupByKey, pairCalls } from '../history/pair-calls.js';
import type { Call, HistoryLine, OpEvent } from '../history/types.js';
import type { Rng } from './rng.js';

/**
 * Mutations that make a correct history certainly wrong, each chosen where the argument is
 * airtight (documented per function). They return null when the history has no suitable op.
 */
export type MutationKind = 'ts-backwards' | 'lost-write' | 'over-admit';

function completionLine(lines: HistoryLine[], call: Call): OpEvent {
  const line = lines.find(
    (l): l is OpEvent =>
      l.kind === 'op' &&
      l.type === 'ok' &&
      l.process === call.process &&
      l.timeUs === call.completeUs,
  );
  if (line === undefined) throw new Error('completion line not found');
  return line;
}

/** An op no other op of its key overlaps, on a key with no indeterminate op: the set and
 * decision times of everything before it are fixed, so its answer is fully determined. */
function isolatedOps(calls: Call[]): Call[] {
  const out: Call[] = [];
  for (const group of groupByKey(calls).values()) {
    if (group.some((c) => c.status === 'info' || c.op.requestId !== undefined)) continue;
    const sorted = group.slice().sort((a, b) => a.invokeUs - b.invokeUs);
    let prevEndUs = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < sorted.length; i++) {
      const c = sorted[i]!;
      const next = sorted[i + 1];
      const alone = c.invokeUs > prevEndUs && (next === undefined || next.invokeUs > c.completeUs);
      if (alone && c.status === 'ok') out.push(c);
      prevEndUs = Math.max(prevEndUs, c.completeUs);
    }
  }
  return out;
}

/** B follows grant A in real time but reports ts < A.ts: ts would go backwards. */
function tsBackwards(lines: HistoryLine[], calls: Call[], rng: Rng): boolean {
  const candidates: [Call, Call][] = [];
  for (const group of groupByKey(calls).values()) {
    const grants = group.filter(
      (c) => c.status === 'ok' && c.result!.allowed && c.op.requestId === undefined,
    );
    for (const b of group) {
      if (b.status !== 'ok' || b.op.requestId !== undefined) continue;
      const a = grants.find((g) => g.completeUs < b.invokeUs);
      if (a !== undefined) candidates.push([a, b]);
    }
  }
  if (candidates.length === 0) return false;
  const [a, b] = rng.pick(candidates);
  completionLine(lines, b).result!.ts = a.result!.ts - 1;
  return true;
}

/** An isolated op that reports a window without an earlier grant that still counts. */
function lostWrite(lines: HistoryLine[], calls: Call[], rng: Rng): boolean {
  const candidates = isolatedOps(calls).filter((b) => b.result!.allowed);
  if (candidates.length === 0) return false;
  const b = rng.pick(candidates);
  // Isolated: everything before it on its key is settled, so its remaining is determined.
  completionLine(lines, b).result!.remaining += 1;
  return true;
}

/** An isolated denial turned into a grant: the window it saw was full. */
function overAdmit(lines: HistoryLine[], calls: Call[], rng: Rng): boolean {
  const candidates = isolatedOps(calls).filter(
    (c) => !c.result!.allowed && c.op.cost <= c.op.limit,
  );
  if (candidates.length === 0) return false;
  const d = rng.pick(candidates);
  const result = completionLine(lines, d).result!;
  result.allowed = true;
  result.remaining = Math.max(0, result.remaining - d.op.cost);
  return true;
}

export function mutateHistory(
  lines: readonly HistoryLine[],
  kind: MutationKind,
  rng: Rng,
): HistoryLine[] | null {
  const copy = structuredClone(lines) as HistoryLine[];
  const calls = pairCalls(copy);
  const done =
    kind === 'ts-backwards'
      ? tsBackwards(copy, calls, rng)
      : kind === 'lost-write'
        ? lostWrite(copy, calls, rng)
        : overAdmit(copy, calls, rng);
  return done ? copy : null;
}
