import type { Call, HistoryLine, NemesisEvent } from '../history/types.js';

/**
 * Availability per fault phase: a phase is a span between nemesis events, labelled by the
 * faults active in it. Ops count in the phase where they were invoked. The longest
 * unavailability after a fault starts is the longest span, from the fault's start to the next
 * fault's start (or the end), with no ok answer.
 */
export interface PhaseStats {
  label: string;
  startUs: number;
  endUs: number;
  ops: number;
  ok: number;
  okFraction: number;
}

export interface FaultRecovery {
  name: string;
  startUs: number;
  longestGapUs: number;
}

export interface AvailabilityResult {
  phases: PhaseStats[];
  faults: FaultRecovery[];
  okFraction: number;
}

function phaseBounds(
  nemesis: NemesisEvent[],
  endUs: number,
): { label: string; startUs: number; endUs: number }[] {
  const active = new Set<string>();
  const out: { label: string; startUs: number; endUs: number }[] = [];
  let startUs = 0;
  const label = (): string => (active.size === 0 ? 'healthy' : [...active].sort().join('+'));
  for (const ev of nemesis) {
    if (ev.timeUs > startUs) out.push({ label: label(), startUs, endUs: ev.timeUs });
    startUs = Math.max(startUs, ev.timeUs);
    if (ev.phase === 'start') active.add(ev.name);
    else active.delete(ev.name);
  }
  if (endUs > startUs || out.length === 0)
    out.push({ label: label(), startUs, endUs: Math.max(endUs, startUs) });
  return out;
}

function longestGap(okTimes: number[], fromUs: number, toUs: number): number {
  let last = fromUs;
  let gap = 0;
  for (const t of okTimes) {
    if (t < fromUs) continue;
    if (t > toUs) break;
    gap = Math.max(gap, t - last);
    last = t;
  }
  return Math.max(gap, toUs - last);
}

export function checkAvailability(
  lines: readonly HistoryLine[],
  calls: readonly Call[],
): AvailabilityResult {
  const nemesis = lines
    .filter((l): l is NemesisEvent => l.kind === 'nemesis')
    .sort((a, b) => a.timeUs - b.timeUs);
  let endUs = 0;
  for (const l of lines) endUs = Math.max(endUs, l.timeUs);
  const phases: PhaseStats[] = phaseBounds(nemesis, endUs).map((p) => ({
    ...p,
    ops: 0,
    ok: 0,
    okFraction: 1,
  }));
  const sortedCalls = calls.slice().sort((a, b) => a.invokeUs - b.invokeUs);
  let p = 0;
  for (const c of sortedCalls) {
    while (p < phases.length - 1 && c.invokeUs >= phases[p]!.endUs) p++;
    const phase = phases[p]!;
    phase.ops++;
    if (c.status === 'ok') phase.ok++;
  }
  for (const phase of phases) phase.okFraction = phase.ops === 0 ? 1 : phase.ok / phase.ops;
  const okTimes = calls
    .filter((c) => c.status === 'ok')
    .map((c) => c.completeUs)
    .sort((a, b) => a - b);
  const starts = nemesis.filter((e) => e.phase === 'start');
  const faults = starts.map((ev, i) => ({
    name: ev.name,
    startUs: ev.timeUs,
    longestGapUs: longestGap(okTimes, ev.timeUs, starts[i + 1]?.timeUs ?? endUs),
  }));
  const ok = calls.filter((c) => c.status === 'ok').length;
  return { phases, faults, okFraction: calls.length === 0 ? 1 : ok / calls.length };
}
