import { pairCalls } from '../history/pair-calls.js';
import type { Call, HistoryLine, NodeEvent } from '../history/types.js';
import { type AvailabilityResult, checkAvailability } from './availability.js';
import {
  checkLinearizability,
  type LinearizabilityOptions,
  type LinearizabilityResult,
  type Verdict,
} from './linearizability.js';
import { type AdmissionOptions, type AdmissionResult, checkAdmission } from './over-admission.js';
import { checkWitness, type WitnessResult } from './witness.js';

export interface CheckOptions extends LinearizabilityOptions, AdmissionOptions {}

export interface CheckReport {
  result: Verdict;
  calls: Call[];
  linearizability: LinearizabilityResult;
  witness: WitnessResult;
  admission: AdmissionResult;
  availability: AvailabilityResult;
  /** Node processes that exited on their own (any one fails the run: nothing should crash). */
  crashes: NodeEvent[];
  /**
   * info counts calls; indeterminate counts ops still indeterminate once the attempts of one
   * requestId are merged (an id answered by any attempt is not): what the search must guess.
   */
  counts: { ok: number; fail: number; info: number; grants: number; indeterminate: number };
}

/** Info calls without a requestId, plus requestIds no attempt of which was answered. */
export function countIndeterminate(calls: readonly Call[]): number {
  let count = 0;
  const answered = new Set<string>();
  const open = new Set<string>();
  for (const c of calls) {
    const id = c.op.requestId;
    if (id === undefined) {
      if (c.status === 'info') count++;
    } else if (c.status === 'ok') answered.add(id);
    else if (c.status === 'info') open.add(id);
  }
  for (const id of open) if (!answered.has(id)) count++;
  return count;
}

/**
 * Runs every checker. fail if any fails or a node crashed; unknown if none fails and one is
 * unknown.
 */
export function checkHistory(
  lines: readonly HistoryLine[],
  options: CheckOptions = {},
): CheckReport {
  const calls = pairCalls(lines);
  const linearizability = checkLinearizability(calls, options);
  const witness = checkWitness(calls);
  const admission = checkAdmission(calls, options);
  const availability = checkAvailability(lines, calls);
  const crashes = lines.filter((l): l is NodeEvent => l.kind === 'node' && l.role === 'crashed');
  const verdicts = [linearizability.result, witness.result, admission.result];
  if (crashes.length > 0) verdicts.push('fail');
  const result: Verdict = verdicts.includes('fail')
    ? 'fail'
    : verdicts.includes('unknown')
      ? 'unknown'
      : 'ok';
  const counts = { ok: 0, fail: 0, info: 0, grants: 0, indeterminate: countIndeterminate(calls) };
  for (const c of calls) {
    counts[c.status]++;
    if (c.result?.allowed) counts.grants++;
  }
  return { result, calls, linearizability, witness, admission, availability, crashes, counts };
}

/** One line for CI logs. */
export function summaryLine(report: CheckReport): string {
  const l = report.linearizability;
  const failedKeys = l.keys.filter((k) => k.result === 'fail').length;
  const unknownKeys = l.keys.filter((k) => k.result === 'unknown').length;
  return [
    `jepsen-lite: ${report.result.toUpperCase()}`,
    `ops=${report.calls.length} ok=${report.counts.ok} info=${report.counts.info} fail=${report.counts.fail} indeterminate=${report.counts.indeterminate}`,
    `linearizable=${l.result} (keys=${l.keys.length} failed=${failedKeys} unknown=${unknownKeys} ${l.elapsedMs}ms)`,
    `witness=${report.witness.result} (${report.witness.violations.length} violations)`,
    `admission=${report.admission.result} (${report.admission.violations.length} violations)`,
    `availability=${(report.availability.okFraction * 100).toFixed(1)}%`,
    ...report.crashes.map((c) => `crashed=${c.node} (${c.detail ?? ''})`),
  ].join(' ');
}
