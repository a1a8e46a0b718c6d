import { Rng } from '../gen/rng.js';
import { type PartitionShape, partitionShapes } from './partitions.js';

/**
 * A seeded nemesis schedule: alternating healthy and fault periods. Targets that depend on the
 * cluster at run time (the leader) are named by role and resolved when the step runs; random
 * choices are fixed here (node indexes, shapes, amounts) so a seed replays the same run.
 */
export type NemesisKind =
  | 'kill'
  | 'pause'
  | 'partition'
  | 'clock'
  | 'membership'
  | 'transfer'
  | 'link'
  /** kill -9 of every node at once (what ack-before-fsync needs); not part of 'all'. */
  | 'kill-all'
  /**
   * SIGSTOP the leader and cut it off; SIGCONT it halfway while still cut (a GC pause plus a
   * partition): it wakes up believing it leads, with stale state, while another leader commits.
   * What makes stale lease reads observable. Not part of 'all'.
   */
  | 'pause-isolate'
  /**
   * Delay every link out of the leader, let entries flow, then kill -9 it: the followers hold
   * entries that committed (and were acknowledged) without knowing it, so a new leader that
   * serves before committing an entry of its term answers from stale state. Not part of 'all'.
   */
  | 'delay-kill-leader';

export const nemesisKinds: readonly NemesisKind[] = [
  'kill',
  'pause',
  'partition',
  'clock',
  'membership',
  'transfer',
  'link',
];

/** Accepted by parseNemesisList besides nemesisKinds. */
const extraKinds: readonly NemesisKind[] = ['kill-all', 'pause-isolate', 'delay-kill-leader'];

export type KillTarget = 'one' | 'leader' | 'minority' | 'all';

export type Fault =
  | { kind: 'kill'; target: KillTarget; pick: number }
  | { kind: 'pause-isolate'; pick: number }
  | { kind: 'delay-kill-leader'; pick: number; delayMs: number }
  /** SIGSTOP the leader for pauseMs (longer than its lease), then SIGCONT. */
  | { kind: 'pause'; target: 'leader' | 'one'; pick: number }
  | { kind: 'partition'; shape: PartitionShape; seed: number }
  | { kind: 'clock'; mode: 'skew' | 'jump' | 'rate'; pick: number; offsetMs: number; rate: number }
  | { kind: 'membership'; pick: number }
  | { kind: 'transfer'; pick: number }
  /** Delay or loss on every link out of one node. */
  | { kind: 'link'; pick: number; delayMs: number; lossRate: number };

export interface ScheduleStep {
  atMs: number;
  durationMs: number;
  fault: Fault;
}

export interface ScheduleOptions {
  seed: number;
  timeMs: number;
  kinds: readonly NemesisKind[];
  /** Mean healthy gap and fault duration. */
  gapMs?: number;
  faultMs?: number;
  /** The node's lease in ms: pauses last longer than this. */
  leaseMs?: number;
  /** Max |clock offset| the schedule may apply; the skew bound for the real-time check. */
  clockOffsetMaxMs?: number;
}

export function parseNemesisList(text: string): NemesisKind[] {
  if (text === 'all') return [...nemesisKinds];
  if (text === 'none' || text === '') return [];
  return text.split(',').map((k) => {
    const known = [...nemesisKinds, ...extraKinds] as readonly string[];
    if (!known.includes(k)) throw new Error(`unknown nemesis ${k}`);
    return k as NemesisKind;
  });
}

function makeFault(kind: NemesisKind, rng: Rng, o: Required<ScheduleOptions>): Fault {
  const pick = rng.int(0, 1_000_000);
  switch (kind) {
    case 'kill':
      return { kind, target: rng.pick(['one', 'leader', 'minority', 'all'] as const), pick };
    case 'kill-all':
      return { kind: 'kill', target: 'all', pick };
    case 'pause-isolate':
      return { kind, pick };
    case 'delay-kill-leader':
      return { kind, pick, delayMs: rng.int(200, 400) };
    case 'pause':
      return { kind, target: rng.chance(0.7) ? 'leader' : 'one', pick };
    case 'partition':
      return { kind, shape: rng.pick(partitionShapes), seed: pick };
    case 'clock': {
      const mode = rng.pick(['skew', 'jump', 'rate'] as const);
      const offsetMs = mode === 'rate' ? 0 : rng.int(-o.clockOffsetMaxMs, o.clockOffsetMaxMs);
      const rate = mode === 'rate' ? rng.pick([0.5, 0.9, 1.1, 2]) : 1;
      return { kind, mode, pick, offsetMs, rate };
    }
    case 'membership':
      return { kind, pick };
    case 'transfer':
      return { kind, pick };
    case 'link':
      return { kind, pick, delayMs: rng.int(0, 200), lossRate: rng.pick([0, 0.01, 0.1]) };
  }
}

export function generateSchedule(options: ScheduleOptions): ScheduleStep[] {
  const o: Required<ScheduleOptions> = {
    gapMs: 5000,
    faultMs: 8000,
    leaseMs: 1000,
    clockOffsetMaxMs: 200,
    ...options,
  };
  if (o.kinds.length === 0) return [];
  const rng = new Rng(o.seed);
  const steps: ScheduleStep[] = [];
  let atMs = rng.int(o.gapMs / 2, o.gapMs);
  // Leave the last gap healthy so the run ends with a recovered cluster.
  while (atMs + o.gapMs < o.timeMs && steps.length < 10_000) {
    const fault = makeFault(rng.pick(o.kinds), rng, o);
    let durationMs = rng.int(o.faultMs / 2, o.faultMs);
    if (fault.kind === 'pause' || fault.kind === 'pause-isolate')
      durationMs = Math.max(durationMs, 2 * o.leaseMs);
    durationMs = Math.min(durationMs, o.timeMs - o.gapMs - atMs);
    if (durationMs <= 0) break;
    steps.push({ atMs, durationMs, fault });
    atMs += durationMs + rng.int(o.gapMs / 2, o.gapMs);
  }
  return steps;
}

/** The clock skew bound the real-time admission check must allow for under this schedule. */
export function scheduleSkewBoundMs(steps: readonly ScheduleStep[]): number {
  let bound = 0;
  for (const s of steps) {
    if (s.fault.kind !== 'clock') continue;
    // A rate change drifts by at most |rate-1| * duration before it is undone.
    const drift = Math.abs(s.fault.rate - 1) * s.durationMs;
    bound = Math.max(bound, Math.abs(s.fault.offsetMs) + drift);
  }
  return Math.ceil(bound);
}
