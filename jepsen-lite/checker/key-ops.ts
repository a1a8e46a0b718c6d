import type { AllowResult, Call } from '../history/types.js';

/**
 * One operation as the per-key search sees it. Calls sharing a requestId whose answers agree
 * are one logical decision: it was made once, somewhere between the first attempt's invoke and
 * the first answer (a retry returns the first decision). An answer that disagrees is a second
 * decision and stays a separate op (the dedupe check reports it).
 */
export interface KeyOp {
  /** Call ids merged into this op; the first is the representative. */
  calls: number[];
  invokeUs: number;
  completeUs: number;
  limit: number;
  windowMs: number;
  cost: number;
  /** Present when answered; absent when indeterminate. */
  result?: AllowResult;
}

export function sameDecision(a: AllowResult, b: AllowResult): boolean {
  return (
    a.allowed === b.allowed && a.remaining === b.remaining && a.ts === b.ts && a.index === b.index
  );
}

function fromCall(call: Call): KeyOp {
  const op: KeyOp = {
    calls: [call.id],
    invokeUs: call.invokeUs,
    completeUs: call.completeUs,
    limit: call.op.limit,
    windowMs: call.op.windowMs,
    cost: call.op.cost,
  };
  if (call.result !== undefined) op.result = call.result;
  return op;
}

function mergeGroup(group: Call[]): KeyOp[] {
  const answered = group
    .filter((c) => c.status === 'ok')
    .sort((a, b) => a.completeUs - b.completeUs);
  const firstInvokeUs = Math.min(...group.map((c) => c.invokeUs));
  const first = answered[0];
  if (first === undefined) {
    const op = fromCall(group[0]!);
    op.calls = group.map((c) => c.id);
    op.invokeUs = firstInvokeUs;
    return [op];
  }
  const merged = fromCall(first);
  merged.invokeUs = firstInvokeUs;
  merged.calls = [first.id, ...group.filter((c) => c.status === 'info').map((c) => c.id)];
  const out = [merged];
  for (const call of answered.slice(1)) {
    if (sameDecision(call.result!, first.result!)) merged.calls.push(call.id);
    else out.push(fromCall(call));
  }
  return out;
}

/** The key's calls (ok and info only; fail calls took no effect) as search ops. */
export function buildKeyOps(calls: readonly Call[]): KeyOp[] {
  const out: KeyOp[] = [];
  const byRequest = new Map<string, Call[]>();
  for (const call of calls) {
    if (call.status === 'fail') continue;
    const id = call.op.requestId;
    if (id === undefined) {
      out.push(fromCall(call));
      continue;
    }
    const group = byRequest.get(id);
    if (group === undefined) byRequest.set(id, [call]);
    else group.push(call);
  }
  for (const group of byRequest.values()) out.push(...mergeGroup(group));
  return out.sort((a, b) => a.invokeUs - b.invokeUs);
}
