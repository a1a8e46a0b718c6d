import type { Call } from '../history/types.js';

/**
 * An exhaustive linearizability oracle for tiny single-key histories without requestIds, used
 * only to cross-check the WGL search. It tries every real-time-respecting order of the answered
 * ops with any subset of the indeterminate ops interleaved, giving each indeterminate op every
 * integer ts in [tsMin, tsMax]. Written directly from the contract's rule, sharing no code
 * with the model.
 */
interface G {
  ts: number;
  cost: number;
  windowMs: number;
}

function used(grants: G[], ts: number, windowMs: number): number {
  let sum = 0;
  for (const g of grants)
    if (g.ts <= ts && ts - g.ts < Math.min(windowMs, g.windowMs)) sum += g.cost;
  return sum;
}

export function bruteForceLinearizable(
  calls: readonly Call[],
  tsMin: number,
  tsMax: number,
): boolean {
  const ops = calls.filter((c) => c.status !== 'fail');
  const placed = new Array<boolean>(ops.length).fill(false);
  const mustPlace = ops.filter((c) => c.status === 'ok').length;

  const ready = (i: number): boolean => {
    const op = ops[i]!;
    for (let j = 0; j < ops.length; j++) {
      if (!placed[j] && j !== i && ops[j]!.status === 'ok' && ops[j]!.completeUs < op.invokeUs)
        return false;
    }
    return true;
  };

  const search = (grants: G[], lastGrantTs: number, answered: number): boolean => {
    if (answered === mustPlace) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i] || !ready(i)) continue;
      const op = ops[i]!;
      placed[i] = true;
      let found = false;
      if (op.status === 'ok') {
        const r = op.result!;
        if (r.ts >= lastGrantTs) {
          const sum = used(grants, r.ts, op.op.windowMs);
          const fits = sum + op.op.cost <= op.op.limit;
          if (r.allowed && fits && r.remaining === op.op.limit - sum - op.op.cost) {
            found = search(
              [...grants, { ts: r.ts, cost: op.op.cost, windowMs: op.op.windowMs }],
              r.ts,
              answered + 1,
            );
          } else if (!r.allowed && !fits && r.remaining === Math.max(0, op.op.limit - sum)) {
            found = search(grants, lastGrantTs, answered + 1);
          }
        }
      } else {
        for (let ts = Math.max(tsMin, lastGrantTs); ts <= tsMax && !found; ts++) {
          if (used(grants, ts, op.op.windowMs) + op.op.cost > op.op.limit) continue;
          found = search(
            [...grants, { ts, cost: op.op.cost, windowMs: op.op.windowMs }],
            ts,
            answered,
          );
        }
      }
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search([], Number.NEGATIVE_INFINITY, 0);
}
