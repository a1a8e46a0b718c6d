/**
 * The fault schedule: every seed runs each fault kind at least once (in a seeded order), then
 * random ones, overlapping in time. Each fault returns how to undo it at its end.
 */
import type { Prng } from './prng.js';
import type { SimNode } from './sim-node.js';

export type FaultKind =
  | 'partition'
  | 'one-way'
  | 'isolate-leader'
  | 'pause'
  | 'crash'
  | 'crash-before-sync'
  | 'crash-all'
  | 'leader-churn'
  | 'transfer-leader'
  | 'stale-lease'
  | 'membership';

export const ALL_FAULTS: readonly FaultKind[] = [
  'stale-lease',
  'leader-churn',
  'transfer-leader',
  'partition',
  'one-way',
  'isolate-leader',
  'pause',
  'crash',
  'crash-before-sync',
  'crash-all',
];

/** Weights for faults after the required ones (whole-cluster crashes are rarer). */
const RANDOM_FAULTS: readonly FaultKind[] = [
  'stale-lease',
  'stale-lease',
  'transfer-leader',
  'leader-churn',
  'leader-churn',
  'leader-churn',
  'partition',
  'partition',
  'one-way',
  'one-way',
  'isolate-leader',
  'isolate-leader',
  'pause',
  'pause',
  'crash',
  'crash',
  'crash-before-sync',
  'crash-all',
];

/** What the simulation offers the schedule to act on. */
export interface FaultTarget {
  readonly nodes: readonly SimNode[];
  nowMs(): number;
  /** The up node with the highest term among those that believe they lead, else null. */
  leader(): SimNode | null;
  cut(from: number, to: number): void;
  heal(from: number, to: number): void;
  crash(node: SimNode, reason: 'crash' | 'all'): void;
  /** Restart `node` (if down) at simulated time `atMs`. */
  restartAt(node: SimNode, atMs: number): void;
  count(kind: FaultKind): void;
  /** Until `untilMs`, crash every node soon after it wins an election (Raft paper, figure 8). */
  churnLeaders(untilMs: number): void;
  /** Until `untilMs`, aim frequent lease reads at `node` (a leader just cut off). */
  probeLease(node: SimNode, untilMs: number): void;
  /** Ask the leader to hand over to another voter. */
  transferLeader(): void;
  /** One membership step (add a learner, promote it, or remove a voter). */
  changeMembership(): void;
}

export class FaultSchedule {
  private readonly required: FaultKind[];
  done = new Set<FaultKind>();

  constructor(
    private readonly rng: Prng,
    private readonly membership: boolean,
  ) {
    // Membership seeds walk the group through several changes: add, promote, add, promote, remove.
    const steps: FaultKind[] = [
      'membership',
      'membership',
      'membership',
      'membership',
      'membership',
    ];
    const kinds = membership ? [...ALL_FAULTS, ...steps] : [...ALL_FAULTS];
    this.required = rng.shuffle(kinds);
  }

  get requiredLeft(): number {
    return this.required.length;
  }

  /** Start the next fault; returns the undo to run after `durationMs`, and that duration. */
  next(target: FaultTarget): { undo: () => void; durationMs: number } {
    const required = this.required.shift();
    let kind = required ?? this.rng.pick(RANDOM_FAULTS);
    if (required === undefined && kind === 'transfer-leader' && this.membership) {
      if (this.rng.chance(0.5)) kind = 'membership';
    }
    this.done.add(kind);
    target.count(kind);
    const durationMs = this.rng.range(60, 700);
    return { undo: this.start(kind, target, durationMs), durationMs };
  }

  private start(kind: FaultKind, target: FaultTarget, durationMs: number): () => void {
    switch (kind) {
      case 'partition':
        return this.partition(target);
      case 'one-way':
        return this.oneWay(target);
      case 'isolate-leader':
        return this.isolate(target, target.leader() ?? this.rng.pick(target.nodes));
      case 'stale-lease':
        return this.staleLease(target, durationMs);
      case 'pause':
        return this.pause(target, durationMs);
      case 'crash':
        return this.crash(target, durationMs);
      case 'crash-before-sync':
        return this.armCrashBeforeSync(target);
      case 'crash-all':
        return this.crashAll(target, durationMs);
      case 'leader-churn':
        target.churnLeaders(target.nowMs() + durationMs * 2);
        return () => {};
      case 'transfer-leader':
        target.transferLeader();
        return () => {};
      case 'membership':
        target.changeMembership();
        return () => {};
    }
  }

  private partition(target: FaultTarget): () => void {
    const n = target.nodes.length;
    const side = target.nodes.map(() => this.rng.chance(0.5));
    // Both sides non-empty.
    if (side.every((s) => s) || side.every((s) => !s)) side[this.rng.int(n)] = !side[0];
    const links: [number, number][] = [];
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) if (side[a] !== side[b]) links.push([a, b]);
    return this.cutAll(target, links);
  }

  private oneWay(target: FaultTarget): () => void {
    const n = target.nodes.length;
    const victim = (target.leader() ?? this.rng.pick(target.nodes)).index;
    const links: [number, number][] = [];
    const mode = this.rng.int(3);
    for (let other = 0; other < n; other++) {
      if (other === victim) continue;
      if (mode === 0)
        links.push([victim, other]); // can hear, cannot speak
      else if (mode === 1)
        links.push([other, victim]); // can speak, cannot hear
      else if (this.rng.chance(0.5)) links.push([victim, other]); // some single directions
    }
    if (links.length === 0) links.push([victim, (victim + 1) % n]);
    return this.cutAll(target, links);
  }

  private isolate(target: FaultTarget, node: SimNode): () => void {
    const links: [number, number][] = [];
    for (const other of target.nodes) {
      if (other === node) continue;
      links.push([node.index, other.index], [other.index, node.index]);
    }
    return this.cutAll(target, links);
  }

  /**
   * Cut the leader off while it may still hold a lease and keep reading there: the moment a
   * new leader acknowledges a write, a lease that outlives the followers' election timeout
   * (bad lease arithmetic, clocks drifting past the bound) serves a stale read.
   */
  private staleLease(target: FaultTarget, durationMs: number): () => void {
    const leader = target.leader();
    if (leader === null) return () => {};
    target.probeLease(leader, target.nowMs() + durationMs);
    return this.isolate(target, leader);
  }

  private cutAll(target: FaultTarget, links: [number, number][]): () => void {
    for (const [a, b] of links) target.cut(a, b);
    return () => {
      for (const [a, b] of links) target.heal(a, b);
    };
  }

  /** A stop-the-world pause (GC, SIGSTOP): the node neither ticks nor reads its socket. */
  private pause(target: FaultTarget, durationMs: number): () => void {
    const leader = target.leader();
    const node = leader !== null && this.rng.chance(0.6) ? leader : this.rng.pick(target.nodes);
    node.pausedUntilMs = Math.max(node.pausedUntilMs, target.nowMs() + durationMs);
    return () => {};
  }

  private crash(target: FaultTarget, durationMs: number): () => void {
    const up = target.nodes.filter((n) => n.up);
    if (up.length === 0) return () => {};
    const leader = target.leader();
    const node = leader !== null && this.rng.chance(0.5) ? leader : this.rng.pick(up);
    target.crash(node, 'crash');
    target.restartAt(node, target.nowMs() + durationMs);
    return () => {};
  }

  private armCrashBeforeSync(target: FaultTarget): () => void {
    const up = target.nodes.filter((n) => n.up);
    if (up.length === 0) return () => {};
    const leader = target.leader();
    const node = leader !== null && this.rng.chance(0.5) ? leader : this.rng.pick(up);
    node.crashBeforeSync = true;
    // Disarm if no persist happened during the fault (the crash then never came).
    return () => {
      node.crashBeforeSync = false;
    };
  }

  private crashAll(target: FaultTarget, durationMs: number): () => void {
    for (const node of target.nodes) {
      if (!node.up) continue;
      target.crash(node, 'all');
      target.restartAt(node, target.nowMs() + durationMs + this.rng.int(50));
    }
    return () => {};
  }
}
