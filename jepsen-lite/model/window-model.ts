/**
 * The sequential specification of one (rule, key) sliding-window log, as the checkers see it.
 *
 * A grant's decision time is known exactly when the server answered it (lo === hi === ts).
 * An indeterminate (info) op that the search decides took effect has an unknown ts: it is kept
 * as an interval [lo, hi] that later operations narrow (it precedes them, so hi <= their ts),
 * and that branches in two when a later decision depends on whether it is still in the window.
 *
 * A grant at g counts at time t (for an op with window w) iff t - min(w, g.windowMs) < g <= t:
 * a grant is kept only for the window in force when it was granted (contract: Limits).
 */

export interface Grant {
  lo: number;
  hi: number;
  cost: number;
  windowMs: number;
}

export interface ModelState {
  /** ts of the last linearized grant; the next grant's ts must not be smaller. */
  readonly lastTs: number;
  /** Grants that may still count, sorted by (lo, hi). */
  readonly grants: readonly Grant[];
}

export interface ModelOp {
  limit: number;
  windowMs: number;
  cost: number;
}

export interface ModelResponse {
  allowed: boolean;
  remaining: number;
  ts: number;
}

export const initialState: ModelState = { lastTs: Number.NEGATIVE_INFINITY, grants: [] };

/** Pending grants whose membership at t is unknown are branched; beyond this many we give up. */
const ambiguousGrantsMax = 12;

function effectiveWindow(op: ModelOp, grant: Grant): number {
  return Math.min(op.windowMs, grant.windowMs);
}

function pruneExpired(grants: Grant[], lastTs: number): Grant[] {
  // A grant that cannot count at lastTs cannot count later: every later ts is >= lastTs.
  // Every later cut is >= lastTs - windowMs, so an uncertain grant's lower bound below that is
  // equivalent to that bound: clamping it makes equivalent states equal for the cache.
  const out: Grant[] = [];
  for (const g of grants) {
    if (g.hi <= lastTs - g.windowMs) continue;
    const floor = lastTs - g.windowMs;
    out.push(g.lo < floor && g.lo !== g.hi ? { ...g, lo: floor } : g);
  }
  return out;
}

function sortGrants(grants: Grant[]): Grant[] {
  return grants.sort((a, b) => a.lo - b.lo || a.hi - b.hi || a.cost - b.cost);
}

/**
 * Every way the grants can be split into counted / not counted at t, with the grants' intervals
 * narrowed to match. Grants must precede t (hi <= t); a grant that cannot is a dead branch.
 */
function windowAssignments(
  state: ModelState,
  op: ModelOp,
  t: number,
): { sum: number; grants: Grant[] }[] | null {
  let fixedSum = 0;
  const settled: Grant[] = [];
  const ambiguous: Grant[] = [];
  for (const g of state.grants) {
    const hi = Math.min(g.hi, t);
    if (g.lo > hi) return [];
    const cut = t - effectiveWindow(op, g); // counted iff ts > cut
    const narrowed = hi === g.hi ? g : { ...g, hi };
    if (narrowed.lo > cut) {
      fixedSum += g.cost;
      settled.push(narrowed);
    } else if (narrowed.hi <= cut) {
      settled.push(narrowed);
    } else {
      ambiguous.push(narrowed);
    }
  }
  if (ambiguous.length > ambiguousGrantsMax) return null;
  const out: { sum: number; grants: Grant[] }[] = [];
  const combos = 1 << ambiguous.length;
  for (let mask = 0; mask < combos; mask++) {
    let sum = fixedSum;
    const grants = settled.slice();
    for (let i = 0; i < ambiguous.length; i++) {
      const g = ambiguous[i]!;
      const cut = t - effectiveWindow(op, g);
      if (mask & (1 << i)) {
        sum += g.cost;
        grants.push({ ...g, lo: cut + 1 });
      } else {
        grants.push({ ...g, hi: cut });
      }
    }
    out.push({ sum, grants });
  }
  return out;
}

/** Thrown when a state has too many uncertain grants to enumerate; the checker says unknown. */
export class ModelBudgetError extends Error {}

/** States after an answered op, or [] when the model cannot produce this answer. */
export function stepAnswered(state: ModelState, op: ModelOp, res: ModelResponse): ModelState[] {
  const t = res.ts;
  if (t < state.lastTs) return [];
  const assignments = windowAssignments(state, op, t);
  if (assignments === null) throw new ModelBudgetError('too many uncertain grants');
  const out: ModelState[] = [];
  for (const { sum, grants } of assignments) {
    if (res.allowed) {
      if (sum + op.cost > op.limit) continue;
      if (res.remaining !== op.limit - sum - op.cost) continue;
      grants.push({ lo: t, hi: t, cost: op.cost, windowMs: op.windowMs });
      out.push({ lastTs: t, grants: sortGrants(pruneExpired(grants, t)) });
    } else {
      if (sum + op.cost <= op.limit) continue;
      if (res.remaining !== Math.max(0, op.limit - sum)) continue;
      // A denial records nothing and does not advance lastTs: a lease-served denial reports the
      // leader's current time, which may exceed the ts of entries still being committed.
      out.push({ lastTs: state.lastTs, grants: sortGrants(grants) });
    }
  }
  if (!res.allowed && out.length > 1 && out.length === assignments.length) {
    // The denial holds whichever uncertain grants count: it constrains none of them, and the
    // union of the narrowed branches is the state with only hi <= t applied.
    return [{ lastTs: state.lastTs, grants: sortGrants(narrowAll(state.grants, t)) }];
  }
  return out;
}

function narrowAll(grants: readonly Grant[], t: number): Grant[] {
  return grants.map((g) => (g.hi > t ? { ...g, hi: t } : g));
}

/**
 * States after an indeterminate op that took effect as a grant at an unknown ts >= every ts
 * before it. Its earliest possible ts is where the window first has room; the other grants'
 * uncertain positions are taken at their earliest (a permissive relaxation: never a false
 * violation). A denied indeterminate op changes nothing, so it is the same as not linearizing it;
 * so is one whose earliest ts is after tsMax (the last answered ts of its key).
 */
export function stepIndeterminate(state: ModelState, op: ModelOp, tsMax: number): ModelState[] {
  if (op.cost > op.limit) return [];
  let lo = state.lastTs;
  for (const g of state.grants) if (g.lo > lo) lo = g.lo;
  if (lo === Number.NEGATIVE_INFINITY) lo = Number.MIN_SAFE_INTEGER;
  // Expiry times (earliest placement) are the only points where the window sum drops.
  const candidates = [lo];
  for (const g of state.grants) {
    const expiry = g.lo + effectiveWindow(op, g);
    if (expiry > lo) candidates.push(expiry);
  }
  candidates.sort((a, b) => a - b);
  for (const x of candidates) {
    // A grant after every answered op's ts can never be observed: same as not taking effect.
    if (x > tsMax) return [];
    let sum = 0;
    for (const g of state.grants) if (g.lo > x - effectiveWindow(op, g)) sum += g.cost;
    if (sum + op.cost <= op.limit) {
      const grants = state.grants.slice();
      grants.push({ lo: x, hi: Number.POSITIVE_INFINITY, cost: op.cost, windowMs: op.windowMs });
      return [{ lastTs: state.lastTs, grants: sortGrants(grants) }];
    }
  }
  return [];
}

/** A canonical string of the state, for the search cache (times relative to lastTs: short). */
export function stateKey(state: ModelState): string {
  const base = Number.isFinite(state.lastTs) ? state.lastTs : 0;
  let s = String(state.lastTs);
  for (const g of state.grants) {
    s += `|${g.lo - base},${g.hi === Number.POSITIVE_INFINITY ? 'i' : g.hi - base},${g.cost},${g.windowMs}`;
  }
  return s;
}

/** Sum of grants that surely count at t, for reports. */
export function describeState(state: ModelState): string {
  if (state.grants.length === 0) return 'empty';
  return state.grants
    .map((g) =>
      g.lo === g.hi
        ? `${g.cost}@${g.lo}`
        : `${g.cost}@[${g.lo},${g.hi === Number.POSITIVE_INFINITY ? '∞' : g.hi}]`,
    )
    .join(' ');
}
