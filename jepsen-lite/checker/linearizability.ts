import { groupByKey } from '../history/pair-calls.js';
import type { Call } from '../history/types.js';
import {
  describeState,
  initialState,
  ModelBudgetError,
  type ModelState,
  stateKey,
  stepAnswered,
  stepIndeterminate,
} from '../model/window-model.js';
import { buildKeyOps, type KeyOp } from './key-ops.js';
import { type SearchOp, type SearchOutcome, searchLinearization } from './wgl-search.js';

export type Verdict = 'ok' | 'fail' | 'unknown';

export interface TraceRow {
  /** Call ids of the op (first = representative). */
  calls: number[];
  before: string;
  after: string;
}

export interface KeyFailure {
  /** The op (call ids) that cannot be linearized by the time it returned. */
  culprit: number[];
  /** Calls of the smallest failing prefix that matter for the culprit. */
  subHistory: number[];
  /** The deepest partial linearization of that prefix (its tail), with model states. */
  trace: TraceRow[];
  /** Model state the deepest partial linearization reached. */
  stateAtStuck: string;
}

export interface KeyVerdict {
  rule: string;
  key: string;
  result: Verdict;
  ops: number;
  steps: number;
  reason?: string;
  failure?: KeyFailure;
}

export interface LinearizabilityResult {
  result: Verdict;
  keys: KeyVerdict[];
  steps: number;
  elapsedMs: number;
}

export interface LinearizabilityOptions {
  /** Model steps per key before 'unknown'. Default 2,000,000. */
  stepsPerKeyMax?: number;
  /** Wall-clock budget for the whole check. Default 5 minutes. */
  timeBudgetMs?: number;
  /** Trace rows kept in a failure report. Default 16. */
  traceRowsMax?: number;
}

function toSearchOps(ops: readonly KeyOp[]): SearchOp<ModelState>[] {
  const tsMax = lastAnsweredTs(ops);
  return ops.map((op) => {
    const result = op.result;
    return {
      invokeUs: op.invokeUs,
      completeUs: result === undefined ? Number.POSITIVE_INFINITY : op.completeUs,
      ...(result === undefined
        ? { symmetryKey: `${op.cost}/${op.limit}/${op.windowMs}` }
        : { priority: result.ts, viable: (s: ModelState) => result.ts >= s.lastTs }),
      step:
        result === undefined
          ? (s: ModelState, horizon: number) => stepIndeterminate(s, op, Math.min(tsMax, horizon))
          : (s: ModelState) => stepAnswered(s, op, result),
    };
  });
}

export function lastAnsweredTs(ops: readonly KeyOp[]): number {
  let tsMax = Number.NEGATIVE_INFINITY;
  for (const op of ops) if (op.result !== undefined && op.result.ts > tsMax) tsMax = op.result.ts;
  return tsMax;
}

const model = { init: initialState, key: stateKey };

function runSearch(
  ops: readonly KeyOp[],
  stepsMax: number,
  deadlineMs: number,
  trace = false,
): SearchOutcome<ModelState> {
  try {
    return searchLinearization(toSearchOps(ops), model, { stepsMax, deadlineMs, trace });
  } catch (err) {
    if (err instanceof ModelBudgetError)
      return { result: 'unknown', steps: 0, reason: err.message };
    throw err;
  }
}

/** The history cut at time T: ops answered after T become optional (they may not have happened yet). */
function prefixAt(ops: readonly KeyOp[], cutUs: number): KeyOp[] {
  const out: KeyOp[] = [];
  for (const op of ops) {
    if (op.invokeUs > cutUs) continue;
    if (op.result !== undefined && op.completeUs > cutUs) {
      // Still in flight at T: its answer constrains it only if the search places it.
      out.push({ ...op, completeUs: Number.POSITIVE_INFINITY, result: op.result });
    } else out.push(op);
  }
  return out;
}

/** Binary search for the smallest failing prefix (failure is monotone in the cut). */
function explainFailure(
  ops: readonly KeyOp[],
  stepsMax: number,
  deadlineMs: number,
  traceRowsMax: number,
): KeyFailure {
  const returns = ops
    .filter((op) => op.result !== undefined)
    .map((op) => op.completeUs)
    .sort((a, b) => a - b);
  let lo = 0;
  let hi = returns.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const outcome = runPrefix(ops, returns[mid]!, stepsMax, deadlineMs, false);
    if (outcome.result === 'fail') hi = mid;
    else lo = mid + 1;
  }
  const cutUs = returns[lo]!;
  const prefix = prefixAt(ops, cutUs);
  const outcome = runPrefix(ops, cutUs, stepsMax, deadlineMs, true);
  const culprit = ops.find((op) => op.result !== undefined && op.completeUs === cutUs)!;
  const deepest = outcome.result === 'fail' ? outcome.deepest : [];
  const tail = deepest.slice(-traceRowsMax);
  const trace = tail.map((row) => ({
    calls: prefix[row.op]!.calls,
    before: describeState(row.before),
    after: describeState(row.after),
  }));
  const inTrace = new Set(tail.map((row) => row.op));
  const concurrent = prefix.filter(
    (op, i) => !inTrace.has(i) && op.completeUs >= culprit.invokeUs && op !== culprit,
  );
  const subHistory = [
    ...tail.map((row) => prefix[row.op]!.calls[0]!),
    ...concurrent.map((op) => op.calls[0]!),
    culprit.calls[0]!,
  ];
  const last = deepest[deepest.length - 1];
  return {
    culprit: culprit.calls,
    subHistory: [...new Set(subHistory)].sort((a, b) => a - b),
    trace,
    stateAtStuck: last === undefined ? 'empty' : describeState(last.after),
  };
}

function runPrefix(
  ops: readonly KeyOp[],
  cutUs: number,
  stepsMax: number,
  deadlineMs: number,
  trace: boolean,
): SearchOutcome<ModelState> {
  return runSearch(prefixAt(ops, cutUs), stepsMax, deadlineMs, trace);
}

export function checkKeyCalls(
  calls: readonly Call[],
  options: LinearizabilityOptions = {},
  deadlineMs = Date.now() + (options.timeBudgetMs ?? 300_000),
): KeyVerdict {
  const first = calls[0]!;
  const stepsMax = options.stepsPerKeyMax ?? 2_000_000;
  const ops = buildKeyOps(calls);
  const outcome = runSearch(ops, stepsMax, deadlineMs);
  const verdict: KeyVerdict = {
    rule: first.op.rule,
    key: first.op.key,
    result: outcome.result,
    ops: ops.length,
    steps: outcome.steps,
  };
  if (outcome.result === 'unknown') verdict.reason = outcome.reason;
  if (outcome.result === 'fail') {
    verdict.failure = explainFailure(ops, stepsMax, deadlineMs, options.traceRowsMax ?? 16);
  }
  return verdict;
}

/** Linearizability of every (rule, key), checked independently (P-compositionality). */
export function checkLinearizability(
  calls: readonly Call[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const started = Date.now();
  const deadlineMs = started + (options.timeBudgetMs ?? 300_000);
  const keys: KeyVerdict[] = [];
  let steps = 0;
  for (const group of groupByKey(calls).values()) {
    const verdict = checkKeyCalls(group, options, deadlineMs);
    steps += verdict.steps;
    keys.push(verdict);
  }
  const result: Verdict = keys.some((k) => k.result === 'fail')
    ? 'fail'
    : keys.some((k) => k.result === 'unknown')
      ? 'unknown'
      : 'ok';
  return { result, keys, steps, elapsedMs: Date.now() - started };
}
