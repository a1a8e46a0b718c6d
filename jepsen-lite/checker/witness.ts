import { groupByKey } from '../history/pair-calls.js';
import type { Call } from '../history/types.js';
import {
  initialState,
  ModelBudgetError,
  type ModelState,
  stateKey,
  stepAnswered,
  stepIndeterminate,
} from '../model/window-model.js';
import { buildKeyOps } from './key-ops.js';
import { lastAnsweredTs, type Verdict } from './linearizability.js';
import { type SearchOp, searchLinearization } from './wgl-search.js';

/**
 * Checks the server's own witness of its order: (index, ts).
 * 1. Real time: if A was answered before B was invoked then index(A) < index(B); a denial may
 *    be lease-served at the applied index it read, so for a denial B index(A) <= index(B).
 *    Also ts(A) <= ts(B) when A is a grant (grants are log entries, ts never decreases).
 * 2. Along the index: grants have distinct indexes and non-decreasing ts; every answer's ts is
 *    >= the ts of the grant with the greatest index <= its index.
 * 3. Replay: the model applied in index order (grants before denials at one index, then by
 *    ts) reproduces every answer; indeterminate ops may be slotted in where they could fall.
 */
export interface WitnessViolation {
  kind: 'index-vs-real-time' | 'ts-vs-real-time' | 'duplicate-index' | 'ts-decreasing' | 'replay';
  calls: number[];
  message: string;
}

export interface WitnessResult {
  result: Verdict;
  violations: WitnessViolation[];
  /** Keys whose replay hit the search budget. */
  unknownKeys: string[];
}

const violationsMax = 50;

function answered(calls: readonly Call[]): Call[] {
  return calls.filter((c) => c.status === 'ok' && c.result !== undefined);
}

/**
 * One representative per requestId decision: a retry's echo is not a new decision, and the
 * decision may have been made during any attempt, so it counts as invoked at the first one.
 */
function decisions(calls: readonly Call[]): Call[] {
  const firstInvoke = new Map<string, number>();
  for (const c of calls) {
    const id = c.op.requestId;
    if (id === undefined || c.status === 'fail') continue;
    firstInvoke.set(id, Math.min(firstInvoke.get(id) ?? Number.POSITIVE_INFINITY, c.invokeUs));
  }
  const seen = new Set<string>();
  const out: Call[] = [];
  for (const c of answered(calls)) {
    const r = c.result!;
    if (c.op.requestId === undefined) {
      out.push(c);
      continue;
    }
    const id = `${c.op.requestId}|${r.index}|${r.ts}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ ...c, invokeUs: firstInvoke.get(c.op.requestId)! });
  }
  return out;
}

function checkRealTime(ops: Call[], out: WitnessViolation[]): void {
  const byInvoke = ops.slice().sort((a, b) => a.invokeUs - b.invokeUs);
  const byComplete = ops.slice().sort((a, b) => a.completeUs - b.completeUs);
  let j = 0;
  let maxIndex: Call | undefined;
  let maxGrantTs: Call | undefined;
  for (const b of byInvoke) {
    while (j < byComplete.length && byComplete[j]!.completeUs < b.invokeUs) {
      const a = byComplete[j++]!;
      if (maxIndex === undefined || a.result!.index > maxIndex.result!.index) maxIndex = a;
      if (a.result!.allowed && (maxGrantTs === undefined || a.result!.ts > maxGrantTs.result!.ts))
        maxGrantTs = a;
    }
    const r = b.result!;
    if (maxIndex !== undefined) {
      const ai = maxIndex.result!.index;
      const bad = r.allowed ? r.index <= ai : r.index < ai;
      if (bad && out.length < violationsMax) {
        out.push({
          kind: 'index-vs-real-time',
          calls: [maxIndex.id, b.id],
          message: `call ${maxIndex.id} (index ${ai}) was answered before call ${b.id} was invoked, yet ${b.id} has index ${r.index}`,
        });
      }
    }
    if (maxGrantTs !== undefined && r.ts < maxGrantTs.result!.ts && out.length < violationsMax) {
      out.push({
        kind: 'ts-vs-real-time',
        calls: [maxGrantTs.id, b.id],
        message: `grant ${maxGrantTs.id} (ts ${maxGrantTs.result!.ts}) precedes call ${b.id} in real time, yet ${b.id} has ts ${r.ts}`,
      });
    }
  }
}

function checkIndexOrder(ops: Call[], out: WitnessViolation[]): void {
  const grants = ops
    .filter((c) => c.result!.allowed)
    .sort((a, b) => a.result!.index - b.result!.index);
  for (let i = 1; i < grants.length && out.length < violationsMax; i++) {
    const a = grants[i - 1]!;
    const b = grants[i]!;
    if (a.result!.index === b.result!.index) {
      out.push({
        kind: 'duplicate-index',
        calls: [a.id, b.id],
        message: `grants ${a.id} and ${b.id} share index ${a.result!.index}`,
      });
    } else if (b.result!.ts < a.result!.ts) {
      out.push({
        kind: 'ts-decreasing',
        calls: [a.id, b.id],
        message: `ts goes back along the log: index ${a.result!.index} ts ${a.result!.ts}, index ${b.result!.index} ts ${b.result!.ts}`,
      });
    }
  }
  const denials = ops.filter((c) => !c.result!.allowed);
  for (const d of denials) {
    if (out.length >= violationsMax) break;
    const g = lastGrantAtOrBefore(grants, d.result!.index);
    if (g !== undefined && d.result!.ts < g.result!.ts) {
      out.push({
        kind: 'ts-decreasing',
        calls: [g.id, d.id],
        message: `denial ${d.id} at index ${d.result!.index} has ts ${d.result!.ts} < ts ${g.result!.ts} of grant at index ${g.result!.index}`,
      });
    }
  }
}

function lastGrantAtOrBefore(grants: Call[], index: number): Call | undefined {
  let lo = 0;
  let hi = grants.length - 1;
  let found: Call | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (grants[mid]!.result!.index <= index) {
      found = grants[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Highest index answered strictly before a time: sorted completions + prefix max, O(log n). */
function indexFloor(ops: readonly Call[]): (us: number) => number {
  const sorted = ops.slice().sort((a, b) => a.completeUs - b.completeUs);
  const prefixMax: number[] = [];
  let max = Number.NEGATIVE_INFINITY;
  for (const c of sorted) {
    max = Math.max(max, c.result!.index);
    prefixMax.push(max);
  }
  return (us) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.completeUs < us) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? Number.NEGATIVE_INFINITY : prefixMax[lo - 1]!;
  };
}

/**
 * Replays one key in index order. Answered ops get synthetic times forming a chain; an
 * indeterminate op may fall after any answered op whose index is at least the highest index
 * answered before it was invoked.
 */
function replayKey(calls: Call[], stepsMax: number): 'ok' | 'fail' | 'unknown' {
  const keyOps = buildKeyOps(calls);
  const known = keyOps
    .filter((op) => op.result !== undefined)
    .sort(
      (a, b) =>
        a.result!.index - b.result!.index ||
        Number(b.result!.allowed) - Number(a.result!.allowed) ||
        a.result!.ts - b.result!.ts,
    );
  const search: SearchOp<ModelState>[] = known.map((op, p) => ({
    invokeUs: 2 * p,
    completeUs: 2 * p + 1,
    priority: op.result!.ts,
    viable: (s: ModelState) => op.result!.ts >= s.lastTs,
    step: (s: ModelState) => stepAnswered(s, op, op.result!),
  }));
  const tsMax = lastAnsweredTs(keyOps);
  const floorAt = indexFloor(answered(calls));
  for (const op of keyOps) {
    if (op.result !== undefined) continue;
    const floor = floorAt(op.invokeUs);
    // Had it taken effect it is a log entry after every index answered before its invoke.
    let p = 0;
    let hi = known.length;
    while (p < hi) {
      const mid = (p + hi) >> 1;
      if (known[mid]!.result!.index > floor) hi = mid;
      else p = mid + 1;
    }
    search.push({
      invokeUs: 2 * p - 0.5,
      completeUs: Number.POSITIVE_INFINITY,
      symmetryKey: `${op.cost}/${op.limit}/${op.windowMs}`,
      step: (s: ModelState, horizon: number) => stepIndeterminate(s, op, Math.min(tsMax, horizon)),
    });
  }
  try {
    return searchLinearization(search, { init: initialState, key: stateKey }, { stepsMax }).result;
  } catch (err) {
    if (err instanceof ModelBudgetError) return 'unknown';
    throw err;
  }
}

export function checkWitness(
  calls: readonly Call[],
  options: { stepsPerKeyMax?: number } = {},
): WitnessResult {
  const violations: WitnessViolation[] = [];
  const ops = decisions(calls);
  checkRealTime(ops, violations);
  checkIndexOrder(ops, violations);
  const unknownKeys: string[] = [];
  for (const [key, group] of groupByKey(calls)) {
    const outcome = replayKey(group, options.stepsPerKeyMax ?? 1_000_000);
    const name = key.replace('\u0000', '/');
    if (outcome === 'unknown') unknownKeys.push(name);
    if (outcome === 'fail' && violations.length < violationsMax) {
      violations.push({
        kind: 'replay',
        calls: [group[0]!.id],
        message: `replaying ${name} in index order does not reproduce its answers`,
      });
    }
  }
  const result: Verdict =
    violations.length > 0 ? 'fail' : unknownKeys.length > 0 ? 'unknown' : 'ok';
  return { result, violations, unknownKeys };
}
