import { groupByKey } from '../history/pair-calls.js';
import type { Call } from '../history/types.js';
import { sameDecision } from './key-ops.js';
import type { Verdict } from './linearizability.js';

/**
 * Counting checks that need no search.
 * - Server time: acknowledged grants of a (rule, key) inside any window (ts - W, ts] never
 *   exceed the limit. Grants acknowledged before a restart and forgotten after it show up here
 *   (the server grants again what the window no longer had room for).
 * - Client real time: grants whose whole [invoke, complete] interval fits inside a real-time
 *   span of W - 2*skew ms were decided within W of each other on any server clock that is
 *   within skewBoundMs of real time, so more than the limit of them is over-admission whatever
 *   ts the server reported.
 * - Dedupe: every answer for one requestId is the same decision (index, ts, allowed, remaining);
 *   a different one means the retry was decided (counted) again.
 * Indeterminate ops are ignored: they can only add grants, so counts here are lower bounds.
 */
export interface AdmissionViolation {
  kind: 'over-admission-server-time' | 'over-admission-real-time' | 'request-counted-twice';
  key: string;
  calls: number[];
  message: string;
}

export interface AdmissionResult {
  result: Verdict;
  violations: AdmissionViolation[];
  /** Highest granted cost seen in one window, relative to the limit, over all keys. */
  peakUtilisation: number;
}

export interface AdmissionOptions {
  /** Max |server clock - real time| assumed for the real-time check. Default 0. */
  skewBoundMs?: number;
}

const violationsMax = 50;

/** Distinct acknowledged grants; a requestId's decision may date from its first attempt. */
function grantsOf(group: Call[]): Call[] {
  const firstInvoke = new Map<string, number>();
  for (const c of group) {
    const id = c.op.requestId;
    if (id === undefined || c.status === 'fail') continue;
    firstInvoke.set(id, Math.min(firstInvoke.get(id) ?? Number.POSITIVE_INFINITY, c.invokeUs));
  }
  const seen = new Set<string>();
  const out: Call[] = [];
  for (const c of group) {
    if (c.status !== 'ok' || !c.result!.allowed) continue;
    if (c.op.requestId === undefined) {
      out.push(c);
      continue;
    }
    const id = `${c.op.requestId}|${c.result!.index}|${c.result!.ts}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ ...c, invokeUs: firstInvoke.get(c.op.requestId)! });
  }
  return out;
}

function serverTime(name: string, grants: Call[], out: AdmissionViolation[]): number {
  const sorted = grants.slice().sort((a, b) => a.result!.ts - b.result!.ts);
  let peak = 0;
  let start = 0;
  let sum = 0;
  for (let end = 0; end < sorted.length; end++) {
    const g = sorted[end]!;
    sum += g.op.cost;
    const windowMs = g.op.windowMs;
    while (sorted[start]!.result!.ts <= g.result!.ts - windowMs) sum -= sorted[start++]!.op.cost;
    peak = Math.max(peak, sum / g.op.limit);
    if (sum > g.op.limit && out.length < violationsMax) {
      out.push({
        kind: 'over-admission-server-time',
        key: name,
        calls: sorted.slice(start, end + 1).map((c) => c.id),
        message: `${name}: ${sum} granted in (${g.result!.ts - windowMs}, ${g.result!.ts}] with limit ${g.op.limit}`,
      });
      // Report each overflowing window once: restart the scan after it.
      start = end + 1;
      sum = 0;
    }
  }
  return peak;
}

function realTime(
  name: string,
  grants: Call[],
  skewBoundMs: number,
  out: AdmissionViolation[],
): void {
  const sorted = grants.slice().sort((a, b) => a.invokeUs - b.invokeUs);
  for (let i = 0; i < sorted.length && out.length < violationsMax; i++) {
    const first = sorted[i]!;
    const spanUs = (first.op.windowMs - 2 * skewBoundMs - 1) * 1000;
    if (spanUs <= 0) return;
    const endUs = first.invokeUs + spanUs;
    let sum = 0;
    const inside: number[] = [];
    for (let j = i; j < sorted.length && sorted[j]!.invokeUs <= endUs; j++) {
      const g = sorted[j]!;
      if (g.completeUs <= endUs) {
        sum += g.op.cost;
        inside.push(g.id);
      }
    }
    if (sum > first.op.limit) {
      out.push({
        kind: 'over-admission-real-time',
        key: name,
        calls: inside,
        message: `${name}: ${sum} grants decided within ${spanUs / 1000} ms of real time with limit ${first.op.limit}`,
      });
      return;
    }
  }
}

function dedupe(name: string, group: Call[], out: AdmissionViolation[]): void {
  const byId = new Map<string, Call>();
  for (const c of group) {
    if (c.status !== 'ok' || c.op.requestId === undefined) continue;
    const first = byId.get(c.op.requestId);
    if (first === undefined) byId.set(c.op.requestId, c);
    else if (!sameDecision(first.result!, c.result!) && out.length < violationsMax) {
      out.push({
        kind: 'request-counted-twice',
        key: name,
        calls: [first.id, c.id],
        message: `requestId ${c.op.requestId} decided twice: index ${first.result!.index} and ${c.result!.index}`,
      });
    }
  }
}

export function checkAdmission(
  calls: readonly Call[],
  options: AdmissionOptions = {},
): AdmissionResult {
  const violations: AdmissionViolation[] = [];
  let peak = 0;
  for (const [key, group] of groupByKey(calls)) {
    const name = key.replace('\u0000', '/');
    const grants = grantsOf(group);
    peak = Math.max(peak, serverTime(name, grants, violations));
    realTime(name, grants, options.skewBoundMs ?? 0, violations);
    dedupe(name, group, violations);
  }
  return { result: violations.length > 0 ? 'fail' : 'ok', violations, peakUtilisation: peak };
}
