/**
 * One deterministic run: N real cores on a simulated network, disk and clock, all driven by
 * one seeded PRNG through an event queue. After every event the checker verifies Raft's
 * safety properties; a violation throws a SimViolation naming the seed, step and the command
 * that reproduces it.
 */
import type { Message, RaftConfig, Ready } from '../../src/raft/types.js';
import { Checker } from './checker.js';
import { EventQueue } from './event-queue.js';
import { type FaultKind, FaultSchedule, type FaultTarget } from './faults.js';
import { changeMembership, type GroupOpsContext, transferLeader } from './group-ops.js';
import { copyMessage, Network, randomNetworkProfile } from './network.js';
import { Prng } from './prng.js';
import { SimClock } from './sim-clock.js';
import { type DriverHooks, processReady, processWriteDone } from './sim-driver.js';
import { SimNode } from './sim-node.js';
import {
  LIVENESS_MAX_MS,
  LIVENESS_WINDOW_MS,
  PROGRESS_CHECK_MS,
  type SimOptions,
  STEPS_MAX,
} from './sim-options.js';
import {
  finishStream,
  type SnapshotStream,
  type StreamContext,
  startStream,
} from './snapshot-stream.js';
import { emptyStats, type SimStats } from './stats.js';
import { reproCommand, SimViolation } from './violation.js';
import { Workload } from './workload.js';

type SimEvent =
  | { k: 'tick'; node: SimNode; incarnation: number }
  | { k: 'ready'; node: SimNode; incarnation: number }
  | { k: 'write-done'; node: SimNode; incarnation: number }
  | { k: 'deliver'; to: SimNode; msg: Message }
  | { k: 'propose' }
  | { k: 'read' }
  | { k: 'fault' }
  | { k: 'undo'; undo: () => void }
  | { k: 'restart'; node: SimNode }
  | { k: 'crash'; node: SimNode; incarnation: number }
  | { k: 'snap'; snap: SnapshotStream };

const KEYS = 8;
const TICK_MS = 10;

export interface SimResult {
  stats: SimStats;
  faultsSeen: FaultKind[];
  nodes: number;
}

export class Simulation implements FaultTarget, DriverHooks {
  readonly stats: SimStats = emptyStats();
  readonly nodes: SimNode[] = [];
  readonly checker: Checker;
  readonly workload: Workload;
  private readonly rng: Prng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: Network;
  private readonly faults: FaultSchedule;
  private readonly faultsSeen = new Set<FaultKind>();
  private now = 0;
  private churnUntilMs = 0;
  private leaseProbe: { node: SimNode; untilMs: number } | null = null;
  private churnedTerm = 0;
  private step = 0;
  private phase: 'chaos' | 'heal' = 'chaos';
  private healAtMs = 0;
  private progressCheckAtMs = 0;
  private lastProgressAtMs = 0;
  /** Highest commit index any node has reported since the heal. */
  private commitSeenMax = -1;
  /** Per node, its role and last index at the previous progress check. */
  private readonly logSeen = new Map<string, { role: string; lastIndex: number }>();
  private healAckSeq = 0;
  private readonly tickJitter: number;
  private readonly stallRate: number;
  /** Whether a client call is followed by a Ready at once, or waits for the next tick/message. */
  private readonly eagerReady: boolean;
  private readonly membership: boolean;
  /** Ids that have ever been in the configuration: never re-added (a reused id could vote twice). */
  private readonly everMember = new Set<string>();
  private readonly ops: GroupOpsContext;
  private readonly streams: StreamContext;

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    const fail = (rule: string, detail: string) => this.fail(rule, detail);
    this.checker = new Checker(fail);
    this.workload = new Workload(this.rng.fork(), KEYS, this.stats, fail);
    const n = opts.nodes ?? (this.rng.chance(0.5) ? 3 : 5);
    this.network = new Network(n, this.rng.fork(), randomNetworkProfile(this.rng));
    // Half the 5-node seeds start with 3 voters and 2 empty joiners, for membership changes.
    this.membership = n === 5 && this.rng.chance(0.5);
    this.faults = new FaultSchedule(this.rng.fork(), this.membership);
    this.tickJitter = this.rng.float() * 0.6;
    this.stallRate = this.rng.float() * 0.01;
    this.eagerReady = this.rng.chance(0.5);
    this.buildNodes(n);
    const afterCall = (node: SimNode) => processReady(node, this);
    const trace = (line: string) => this.trace(line);
    this.ops = {
      nodes: this.nodes,
      rng: this.rng,
      stats: this.stats,
      everMember: this.everMember,
      leader: () => this.leader(),
      trace,
      afterCall,
    };
    this.streams = {
      rng: this.rng,
      stats: this.stats,
      network: this.network,
      nowMs: () => this.now,
      nodeById: (id) => this.nodeById(id),
      fail,
      trace,
      afterCall,
    };
  }

  private buildNodes(n: number): void {
    const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const driftBound = 0.02;
    const initial = this.membership ? ids.slice(0, 3) : ids;
    // Half the seeds restart nodes like the SQLite state machine does (config.applied).
    const durableMachine = this.rng.chance(0.5);
    // A separate stream, so adding snapshots did not change what older seeds do.
    const snapRng = new Prng(this.opts.seed ^ 0x2545f491);
    const snapshotEvery = snapRng.pick([0, 0, 10, 25, 60]);
    const snapshotTailEntries = snapRng.pick([0, 2, 8, 50]);
    const leaderSendsBeforePersist = snapRng.chance(0.5);
    // Its own stream too: half the seeds apply durable committed entries before the fsync.
    const applyDurableFirst = new Prng(this.opts.seed ^ 0x5bd1e995).chance(0.5);
    // And half the seeds write the log asynchronously (a write in flight while stepping).
    const asyncWrites = new Prng(this.opts.seed ^ 0x27d4eb2f).chance(0.5);
    // And half leave a commit to the next App or heartbeat (no empty App of its own).
    const piggyback = new Prng(this.opts.seed ^ 0x165667b1).chance(0.5);
    for (const id of initial) this.everMember.add(id);
    const shared = {
      peers: initial,
      electionTicks: 10,
      heartbeatTicks: this.rng.pick([1, 2, 3]),
      tickMs: TICK_MS,
      clockDriftBound: driftBound,
      maxInflightMsgs: this.rng.pick([1, 4, 16, 256]),
      maxInflightBytes: this.rng.pick([128, 4096, 1 << 20]),
      // Small messages split an old leader's tail from its no-op: where commit rules matter.
      maxEntriesBytesPerMsg: this.rng.pick([40, 40, 64, 128, 1024, 1 << 20]),
      preVote: this.rng.chance(0.7),
      checkQuorum: this.rng.chance(0.85),
      testBugs: new Set(this.opts.bugs),
      snapshotTailEntries,
      commitBroadcast: piggyback ? ('piggyback' as const) : ('eager' as const),
    };
    for (let i = 0; i < n; i++) {
      const id = ids[i] as string;
      const config: RaftConfig = { ...shared, id, peers: initial.includes(id) ? initial : [] };
      const clock = new SimClock(1 + this.rng.float() * driftBound, this.rng.int(1_000_000));
      const node = new SimNode(id, i, config, clock, this.rng.fork(), KEYS, () => this.now);
      node.durableMachine = durableMachine;
      node.machineSyncEvery = this.rng.pick([1, 1, 3, 10]);
      node.snapshotEvery = snapshotEvery;
      node.leaderSendsBeforePersist = leaderSendsBeforePersist;
      node.applyDurableFirst = applyDurableFirst;
      node.asyncWrites = asyncWrites;
      this.nodes.push(node);
    }
  }

  run(): SimResult {
    for (const node of this.nodes) this.guarded({ k: 'restart', node });
    this.queue.push(this.rng.range(5, 30), { k: 'propose' });
    this.queue.push(this.rng.range(5, 30), { k: 'read' });
    this.queue.push(this.rng.range(200, 600), { k: 'fault' });
    while (!this.finished()) {
      const item = this.queue.pop();
      if (item === undefined) this.fail('Event queue', 'ran dry');
      this.now = item.timeMs;
      this.step++;
      this.guarded(item.event);
    }
    this.stats.seeds = 1;
    this.stats.steps = this.step;
    this.stats.simulatedMs = this.now;
    this.stats.leaderChanges = this.checker.leaderChanges;
    return { stats: this.stats, faultsSeen: [...this.faultsSeen], nodes: this.nodes.length };
  }

  /** One step; an exception (a core invariant, a contract misuse) becomes a violation with a repro. */
  private guarded(ev: SimEvent): void {
    try {
      this.dispatch(ev);
      this.checkTouched();
    } catch (err) {
      if (err instanceof SimViolation) throw err;
      const where = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.fail('Exception', where.split('\n').slice(0, 4).join(' | '));
    }
  }

  /** Only nodes whose core ran this step can have changed role, term or commit. */
  private checkTouched(): void {
    for (const node of this.nodes) {
      if (!node.touched) continue;
      node.touched = false;
      this.checker.afterStep(node);
      if (this.now < this.churnUntilMs) this.maybeChurn(node);
    }
  }

  /**
   * Leader churn: a node that just won an election dies, or is cut off and keeps its
   * uncommitted tail, a few ms later. Divergent tails across terms are what make commit
   * rules matter (the Raft paper's figure 8).
   */
  private maybeChurn(node: SimNode): void {
    if (!node.up) return;
    const s = node.raft.status();
    if (s.role !== 'leader' || s.term <= this.churnedTerm) return;
    this.churnedTerm = s.term;
    const at = this.now + this.rng.float() * this.rng.pick([0.5, 5, 20, 40]);
    if (this.rng.chance(0.5)) {
      this.queue.push(at, { k: 'crash', node, incarnation: node.incarnation });
      return;
    }
    const links: [number, number][] = [];
    for (const other of this.nodes) {
      if (other !== node) links.push([node.index, other.index], [other.index, node.index]);
    }
    let isCut = false;
    const cut = () => {
      if (this.phase !== 'chaos') return;
      isCut = true;
      for (const [a, b] of links) this.network.cutLink(a, b);
    };
    const heal = () => {
      if (isCut) for (const [a, b] of links) this.network.healLink(a, b);
    };
    this.queue.push(at, { k: 'undo', undo: cut });
    this.queue.push(at + this.rng.range(30, 300), { k: 'undo', undo: heal });
  }

  transferLeader(): void {
    transferLeader(this.ops);
  }

  changeMembership(): void {
    changeMembership(this.ops);
  }

  sendSnapshots(from: SimNode, sends: Ready['snapshotSends']): void {
    for (const send of sends) {
      const snap = startStream(this.streams, from, send);
      if (snap !== null) this.queue.push(snap.atMs, { k: 'snap', snap });
    }
  }

  private onSnapshotStream(snap: SnapshotStream): void {
    const reachable =
      snap.arrives && snap.to.up && !this.network.isCut(snap.from.index, snap.to.index);
    if (reachable && snap.to.isPaused(this.now)) {
      this.queue.push(snap.to.pausedUntilMs, { k: 'snap', snap });
      return;
    }
    finishStream(this.streams, snap);
  }

  snapshotTaken(node: SimNode): void {
    this.stats.snapshots++;
    this.trace(`${node.id} snapshot at ${node.sm.applied}`);
  }

  snapshotInstalled(node: SimNode): void {
    this.stats.snapshotsInstalled++;
    this.trace(`${node.id} installed snapshot at ${node.sm.applied}`);
  }

  churnLeaders(untilMs: number): void {
    this.churnUntilMs = Math.max(this.churnUntilMs, untilMs);
  }

  private finished(): boolean {
    if (this.step >= STEPS_MAX) this.fail('Step bound', `no end after ${STEPS_MAX} steps`);
    if (this.phase === 'chaos') {
      const enough =
        this.stats.ticks >= this.opts.minTicks &&
        this.stats.proposals >= this.opts.minProposals &&
        this.faults.requiredLeft === 0;
      if (enough) this.healEverything();
      return false;
    }
    if (this.workload.ackSeq >= this.healAckSeq + 3) return true;
    if (this.now >= this.progressCheckAtMs) this.checkProgress();
    return false;
  }

  /**
   * Liveness after the heal: replication must keep moving (commit, or followers' logs growing:
   * a long tail at 1 entry per round trip is slow, not stuck) and writes must commit in the end.
   * A follower's growth counts against its own last index at the previous check in the same
   * role: a sum over roles dropped whenever a node with a long uncommitted log became leader
   * (its log stopped counting), and the catch-up after that looked stalled (seed 26229).
   */
  private checkProgress(): void {
    this.progressCheckAtMs = this.now + PROGRESS_CHECK_MS;
    let moved = false;
    for (const n of this.nodes) {
      if (!n.up) continue;
      const s = n.raft.status();
      if (s.commit > this.commitSeenMax) {
        this.commitSeenMax = s.commit;
        moved = true;
      }
      const seen = this.logSeen.get(n.id);
      if (s.role !== 'leader' && seen?.role === s.role && s.lastIndex > seen.lastIndex) {
        moved = true;
      }
      this.logSeen.set(n.id, { role: s.role, lastIndex: s.lastIndex });
    }
    if (moved) this.lastProgressAtMs = this.now;
    const stalled = this.now > this.lastProgressAtMs + LIVENESS_WINDOW_MS;
    if (stalled || this.now > this.healAtMs + LIVENESS_MAX_MS) {
      const state = this.nodes.map(describe).join('; ');
      const why = stalled
        ? `no replication progress for ${LIVENESS_WINDOW_MS} ms`
        : `no write committed within ${LIVENESS_MAX_MS} ms`;
      this.fail('Liveness', `${why} after all faults healed (${state})`);
    }
  }

  /** End of chaos: heal the network, wake and restart everyone, then expect progress. */
  private healEverything(): void {
    this.phase = 'heal';
    this.healAtMs = this.now;
    this.lastProgressAtMs = this.now;
    this.progressCheckAtMs = this.now;
    this.healAckSeq = this.workload.ackSeq;
    this.network.healAll();
    for (const node of this.nodes) {
      node.pausedUntilMs = 0;
      node.crashBeforeSync = false;
      if (!node.up) this.startNode(node);
    }
    this.churnUntilMs = 0;
    this.trace(`heal everything: ${this.nodes.map(describe).join('; ')}`);
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.k) {
      case 'tick':
        this.onTick(ev.node, ev.incarnation);
        return;
      case 'ready':
        this.onDeferredReady(ev.node, ev.incarnation);
        return;
      case 'write-done':
        this.onWriteDone(ev.node, ev.incarnation);
        return;
      case 'deliver':
        this.onDeliver(ev.to, ev.msg);
        return;
      case 'propose':
        this.onPropose();
        return;
      case 'read':
        this.onRead();
        return;
      case 'fault':
        this.onFault();
        return;
      case 'undo':
        ev.undo();
        return;
      case 'restart':
        if (!ev.node.up) this.startNode(ev.node);
        return;
      case 'snap':
        this.onSnapshotStream(ev.snap);
        return;
      case 'crash':
        if (this.phase === 'chaos' && ev.node.up && ev.node.incarnation === ev.incarnation) {
          this.crash(ev.node, 'crash');
          this.restartAt(ev.node, this.now + this.rng.range(30, 300));
        }
        return;
    }
  }

  private onTick(node: SimNode, incarnation: number): void {
    if (!node.up || node.incarnation !== incarnation) return;
    if (node.isPaused(this.now)) {
      this.queue.push(node.pausedUntilMs, { k: 'tick', node, incarnation });
      return;
    }
    node.raft.tick();
    this.stats.ticks++;
    processReady(node, this);
    this.scheduleTick(node);
  }

  /** The driver's next turn after an apply-first pass: soon, but after other events. */
  deferReady(node: SimNode): void {
    const at = this.now + this.rng.float() * this.rng.pick([0.05, 0.5, 2]);
    this.queue.push(at, { k: 'ready', node, incarnation: node.incarnation });
  }

  private onDeferredReady(node: SimNode, incarnation: number): void {
    if (!node.up || node.incarnation !== incarnation) return;
    if (node.isPaused(this.now)) {
      this.queue.push(node.pausedUntilMs, { k: 'ready', node, incarnation });
      return;
    }
    processReady(node, this, true);
  }

  /** An fsync takes from a few µs to several ms (a slow disk); other events land meanwhile. */
  writeLater(node: SimNode): void {
    const at = this.now + this.rng.float() * this.rng.pick([0.05, 0.5, 2, 8]);
    this.queue.push(at, { k: 'write-done', node, incarnation: node.incarnation });
  }

  private onWriteDone(node: SimNode, incarnation: number): void {
    if (!node.up || node.incarnation !== incarnation) return;
    if (node.isPaused(this.now)) {
      this.queue.push(node.pausedUntilMs, { k: 'write-done', node, incarnation });
      return;
    }
    processWriteDone(node, this);
  }

  /** Ticks come late, never early (a timer can be delayed, not hurried); rarely a stall. */
  private scheduleTick(node: SimNode): void {
    let localMs = TICK_MS * (1 + this.rng.float() * this.tickJitter);
    if (this.rng.chance(this.stallRate)) localMs += TICK_MS * this.rng.range(2, 8);
    const at = this.now + node.clock.realDurationMs(localMs);
    this.queue.push(at, { k: 'tick', node, incarnation: node.incarnation });
  }

  private onDeliver(to: SimNode, msg: Message): void {
    const from = this.nodeById(msg.from);
    if (!to.up || (from !== undefined && this.network.isCut(from.index, to.index))) {
      this.stats.drops++;
      return;
    }
    if (to.isPaused(this.now)) {
      this.queue.push(to.pausedUntilMs, { k: 'deliver', to, msg });
      return;
    }
    this.stats.messagesDelivered++;
    this.trace(`deliver ${msg.from}->${to.id} type=${msg.type} term=${msg.term} idx=${msg.index}`);
    to.raft.step(msg);
    processReady(to, this);
  }

  send(from: SimNode, msg: Message): void {
    this.stats.messagesSent++;
    const to = this.nodeById(msg.to);
    if (to === undefined) this.fail('Message target', `${from.id} sent to unknown ${msg.to}`);
    if (this.network.isCut(from.index, to.index)) {
      this.stats.drops++;
      return;
    }
    const delays = this.network.delaysFor();
    if (delays.length === 0) this.stats.drops++;
    if (delays.length > 1) this.stats.duplicates++;
    for (const d of delays) {
      if (d > this.network.profile.baseDelayMs + this.network.profile.jitterMs)
        this.stats.longDelays++;
      this.queue.push(this.now + d, { k: 'deliver', to, msg: copyMessage(msg) });
    }
  }

  private onPropose(): void {
    const node = this.pickLeader(0.97);
    if (node !== null) {
      this.workload.propose(node, this.rng.range(1, 3));
      this.trace(`propose at ${node.id} (${describe(node)})`);
      if (this.eagerReady) processReady(node, this);
    }
    const gap = this.phase === 'heal' ? 10 : this.rng.range(8, 40);
    this.queue.push(this.now + gap, { k: 'propose' });
  }

  private onRead(): void {
    const probe = this.leaseProbe;
    const probing = probe !== null && this.now < probe.untilMs && probe.node.up;
    if (probing && this.rng.chance(0.6) && !probe.node.isPaused(this.now)) {
      this.workload.leaseRead(probe.node);
    } else {
      const node = this.pickLeader(0.9);
      if (node !== null) {
        if (this.rng.chance(0.5)) this.workload.leaseRead(node);
        else this.workload.readIndexRead(node);
        if (this.eagerReady) processReady(node, this);
      }
    }
    const gap = probing ? this.rng.range(2, 8) : this.rng.range(8, 40);
    this.queue.push(this.now + gap, { k: 'read' });
  }

  probeLease(node: SimNode, untilMs: number): void {
    this.leaseProbe = { node, untilMs };
  }

  /** A node that believes it leads (any of them, stale ones too), sometimes any live node. */
  private pickLeader(pLeader: number): SimNode | null {
    const live = this.nodes.filter((n) => n.up && !n.isPaused(this.now));
    if (live.length === 0) return null;
    const leaders = live.filter((n) => n.raft.status().role === 'leader');
    if (leaders.length > 0 && this.rng.chance(pLeader)) return this.rng.pick(leaders);
    // With no leader in sight a client mostly backs off; sometimes it asks someone anyway.
    return leaders.length > 0 || this.rng.chance(0.2) ? this.rng.pick(live) : null;
  }

  private onFault(): void {
    if (this.phase !== 'chaos') return;
    const { undo, durationMs } = this.faults.next(this);
    this.queue.push(this.now + durationMs, { k: 'undo', undo });
    this.queue.push(this.now + this.rng.range(100, 500), { k: 'fault' });
  }

  // FaultTarget

  nowMs(): number {
    return this.now;
  }

  leader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const n of this.nodes) {
      if (!n.up) continue;
      const s = n.raft.status();
      if (s.role === 'leader' && s.term > bestTerm) {
        best = n;
        bestTerm = s.term;
      }
    }
    return best;
  }

  cut(from: number, to: number): void {
    this.network.cutLink(from, to);
  }

  heal(from: number, to: number): void {
    this.network.healLink(from, to);
  }

  crash(node: SimNode, reason: 'crash' | 'all'): void {
    this.stats.crashes++;
    if (reason === 'all') this.stats.crashesAll++;
    this.stats.unsyncedWritesLost += node.crash();
    this.workload.completeReads(node);
    this.trace(`crash ${node.id} (${reason})`);
  }

  restartAt(node: SimNode, atMs: number): void {
    this.queue.push(atMs, { k: 'restart', node });
  }

  count(kind: FaultKind): void {
    this.faultsSeen.add(kind);
    if (kind === 'partition') this.stats.partitions++;
    if (kind === 'one-way') {
      this.stats.partitions++;
      this.stats.partitionsOneWay++;
    }
    if (kind === 'isolate-leader') {
      this.stats.partitions++;
      this.stats.isolatedLeaders++;
    }
    if (kind === 'pause') this.stats.pauses++;
    if (kind === 'stale-lease') {
      this.stats.partitions++;
      this.stats.isolatedLeaders++;
    }
    this.trace(`fault ${kind}`);
  }

  crashedBeforeSync(node: SimNode): void {
    this.stats.crashesBeforeSync++;
    this.crash(node, 'crash');
    this.restartAt(node, this.now + this.rng.range(20, 400));
  }

  private startNode(node: SimNode): void {
    if (node.incarnation > 0) this.stats.restarts++;
    node.start();
    this.trace(`start ${node.id} incarnation ${node.incarnation}`);
    processReady(node, this);
    this.scheduleTick(node);
  }

  private nodeById(id: string): SimNode | undefined {
    for (const n of this.nodes) if (n.id === id) return n;
    return undefined;
  }

  fail(rule: string, detail: string): never {
    throw new SimViolation(
      rule,
      detail,
      this.opts.seed,
      this.step,
      reproCommand(this.opts.seed, this.opts.bugs),
    );
  }

  private trace(line: string): void {
    if (!this.opts.verbose) return;
    const log = this.opts.log ?? console.log;
    log(`[${this.step} t=${this.now.toFixed(2)}] ${line}`);
  }
}

export function runSeed(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}

function describe(n: SimNode): string {
  if (!n.up) return `${n.id} down`;
  const s = n.raft.status();
  return `${n.id} ${s.role} term=${s.term} commit=${s.commit} last=${s.lastIndex} applied=${n.sm.applied}`;
}
