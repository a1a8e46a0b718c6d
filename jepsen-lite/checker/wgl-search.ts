/**
 * Wing & Gong / Lowe linearizability search (the algorithm Porcupine implements), generic over
 * a nondeterministic model: step() returns every possible successor state.
 *
 * Call and return events sit in one time-ordered doubly linked list. The search repeatedly tries
 * to linearize a call that comes before the first pending return; a linearized op is lifted out
 * of the list. Reaching a return whose call is not linearized means backtracking. Each
 * (linearized set, state) pair is visited once: the set is hashed with two 32-bit Zobrist
 * words (collision odds ~n²/2^64, negligible), the state by its canonical key.
 * Ops with completeUs = Infinity (indeterminate) have no return event: they may be linearized
 * anywhere after their call, or never.
 */

export interface SearchOp<S> {
  invokeUs: number;
  completeUs: number;
  /**
   * Successor states. horizon is the least priority of the answered ops that could go next:
   * they all come after this op, so an op of the ordered kind (ts) must not exceed it.
   */
  step(state: S, horizon: number): S[];
  /**
   * Indeterminate ops with equal keys are interchangeable once invoked (same effect, no
   * return): only the first unlinearized one of a class is tried, which cuts the symmetric
   * branches without losing any outcome.
   */
  symmetryKey?: string;
  /**
   * False when this op can never be linearized from this state or any later one (for the
   * limiter: its ts is below the last grant's). A node where a pending answered op is not
   * viable is a dead end, pruned at once instead of after exploring everything under it.
   */
  viable?(state: S): boolean;
  /** Candidates are tried in ascending order of this (then list order). */
  priority?: number;
}

export interface SearchModel<S> {
  init: S;
  key(state: S): string;
}

export interface SearchOptions {
  /** Model steps before giving up with 'unknown'. */
  stepsMax: number;
  /** Cache entries (visited states) before giving up with 'unknown': bounds memory. */
  cacheEntriesMax?: number;
  /** Absolute Date.now() deadline. */
  deadlineMs?: number;
  /** Record the deepest partial linearization (costs a copy per new depth). */
  trace?: boolean;
}

export interface TraceStep<S> {
  op: number;
  before: S;
  after: S;
}

export type SearchOutcome<S> =
  | { result: 'ok'; steps: number; order: number[] }
  | { result: 'fail'; steps: number; deepest: TraceStep<S>[] }
  | { result: 'unknown'; steps: number; reason: string };

interface Frame<S> {
  /** Candidate ops at this node: answered ones first, then indeterminate ones. */
  cands: number[];
  cand: number;
  horizon: number;
  op: number;
  before: S;
  choices: S[];
  choice: number;
}

function zobrist(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x;
  }
  return out;
}

/** Events sorted by time; at equal times calls come first (equal times are concurrent). */
function buildList(ops: readonly SearchOp<unknown>[]): { next: Int32Array; prev: Int32Array } {
  const n = ops.length;
  const events: number[] = [];
  // Ops without a return live outside the list (see symmetry classes below).
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(ops[i]!.completeUs)) continue;
    events.push(2 * i, 2 * i + 1);
  }
  const time = (e: number): number => {
    const op = ops[e >> 1]!;
    return e & 1 ? op.completeUs : op.invokeUs;
  };
  events.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b);
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = head;
  for (const e of events) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  return { next, prev };
}

export function searchLinearization<S>(
  ops: readonly SearchOp<S>[],
  model: SearchModel<S>,
  options: SearchOptions,
): SearchOutcome<S> {
  const n = ops.length;
  const head = 2 * n;
  const { next, prev } = buildList(ops);
  const hasReturn = ops.map((op) => Number.isFinite(op.completeUs));
  // Optional ops by symmetry class, in invoke order. Only a class's first unlinearized op is
  // ever tried and undo is LIFO, so the linearized ones of a class are always a prefix: a
  // counter per class replaces scanning them at every node.
  const classIndex = new Map<string, number>();
  const classLists: number[][] = [];
  const classOf = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (hasReturn[i]) continue;
    const key = ops[i]!.symmetryKey ?? `#${i}`;
    let c = classIndex.get(key);
    if (c === undefined) {
      c = classLists.length;
      classIndex.set(key, c);
      classLists.push([]);
    }
    classLists[c]!.push(i);
    classOf[i] = c;
  }
  for (const list of classLists) list.sort((a, b) => ops[a]!.invokeUs - ops[b]!.invokeUs || a - b);
  const used = new Int32Array(classLists.length);
  const z1 = zobrist(n, 0x1234567);
  const z2 = zobrist(n, 0x7654321);
  let h1 = 0;
  let h2 = 0;
  let returnsLeft = hasReturn.filter(Boolean).length;
  const seen = new Set<string>();
  const cacheEntriesMax = options.cacheEntriesMax ?? 3_000_000;
  const stack: Frame<S>[] = [];
  let deepest: TraceStep<S>[] = [];
  let state = model.init;
  let steps = 0;

  const unlink = (x: number): void => {
    next[prev[x]!] = next[x]!;
    if (next[x]! !== -1) prev[next[x]!] = prev[x]!;
  };
  const relink = (x: number): void => {
    next[prev[x]!] = x;
    if (next[x]! !== -1) prev[next[x]!] = x;
  };
  const lift = (i: number): void => {
    if (hasReturn[i]) {
      unlink(2 * i);
      unlink(2 * i + 1);
    } else used[classOf[i]!]!++;
    h1 ^= z1[i]!;
    h2 ^= z2[i]!;
    if (hasReturn[i]) returnsLeft--;
  };
  const unlift = (i: number): void => {
    if (hasReturn[i]) {
      relink(2 * i + 1);
      relink(2 * i);
    } else used[classOf[i]!]!--;
    h1 ^= z1[i]!;
    h2 ^= z2[i]!;
    if (hasReturn[i]) returnsLeft++;
  };
  /** First choice from `from` whose (set + i, state) is unseen; marks it seen. */
  const pick = (i: number, choices: S[], from: number): number => {
    const a = (h1 ^ z1[i]!) >>> 0;
    const b = (h2 ^ z2[i]!) >>> 0;
    for (let c = from; c < choices.length; c++) {
      const key = `${a}:${b}:${model.key(choices[c]!)}`;
      if (!seen.has(key)) {
        seen.add(key);
        return c;
      }
    }
    return -1;
  };
  const recordDepth = (): void => {
    if (!options.trace || stack.length <= deepest.length) return;
    deepest = stack.map((f) => ({ op: f.op, before: f.before, after: f.choices[f.choice]! }));
  };

  /**
   * The calls before the first pending return, answered ones first: an indeterminate op is
   * tried only where no answered op can go next, which keeps the search from guessing
   * effects nobody observed (it stays complete: every candidate is still tried).
   */
  let horizon = Number.POSITIVE_INFINITY;
  const candidates = (): number[] => {
    horizon = Number.POSITIVE_INFINITY;
    const answeredOps: number[] = [];
    let e = next[head]!;
    for (; e !== -1 && (e & 1) === 0; e = next[e]!) {
      const i = e >> 1;
      if (ops[i]!.viable?.(state) === false) return [];
      answeredOps.push(i);
      horizon = Math.min(horizon, ops[i]!.priority ?? Number.POSITIVE_INFINITY);
    }
    answeredOps.sort((a, b) => (ops[a]!.priority ?? 0) - (ops[b]!.priority ?? 0) || a - b);
    // Calls before the first pending return (calls first at equal times).
    const firstReturnUs = e === -1 ? Number.POSITIVE_INFINITY : ops[e >> 1]!.completeUs;
    for (let c = 0; c < classLists.length; c++) {
      const i = classLists[c]![used[c]!];
      if (i !== undefined && ops[i]!.invokeUs <= firstReturnUs) answeredOps.push(i);
    }
    return answeredOps;
  };
  /** Tries candidates from (cand, choice) on; pushes or updates a frame on success. */
  const advance = (frame: Frame<S>): boolean => {
    for (; frame.cand < frame.cands.length; frame.cand++, frame.choice = -1) {
      const i = frame.cands[frame.cand]!;
      if (frame.choice < 0) {
        steps++;
        frame.choices = ops[i]!.step(state, frame.horizon);
      }
      const c = frame.choices.length > 0 ? pick(i, frame.choices, frame.choice + 1) : -1;
      if (c >= 0) {
        frame.op = i;
        frame.choice = c;
        return true;
      }
    }
    return false;
  };

  let rounds = 0;
  while (returnsLeft > 0) {
    if (steps > options.stepsMax) return { result: 'unknown', steps, reason: 'step budget' };
    if (seen.size > cacheEntriesMax) return { result: 'unknown', steps, reason: 'memory budget' };
    if (
      options.deadlineMs !== undefined &&
      (++rounds & 1023) === 0 &&
      Date.now() > options.deadlineMs
    ) {
      return { result: 'unknown', steps, reason: 'time budget' };
    }
    const cands = candidates();
    const frame: Frame<S> = {
      cands,
      cand: 0,
      horizon,
      op: -1,
      before: state,
      choices: [],
      choice: -1,
    };
    let found = advance(frame);
    if (found) stack.push(frame);
    // Backtrack until some frame has an untried candidate or choice.
    while (!found) {
      const top = stack[stack.length - 1];
      if (top === undefined) return { result: 'fail', steps, deepest };
      unlift(top.op);
      state = top.before;
      found = advance(top);
      if (!found) stack.pop();
      if (steps > options.stepsMax) return { result: 'unknown', steps, reason: 'step budget' };
    }
    const top = stack[stack.length - 1]!;
    state = top.choices[top.choice]!;
    lift(top.op);
    recordDepth();
  }
  return { result: 'ok', steps, order: stack.map((f) => f.op) };
}
