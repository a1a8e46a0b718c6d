import { DrlError } from '../../errors.js';
import type {
  ConfChange,
  LogView,
  Message,
  NodeId,
  RaftConfig,
  RaftCore,
  RaftEnv,
  RaftStatus,
  Ready,
  SnapshotMeta,
  SoftState,
} from '../types.js';
import { EntryType, MessageType } from '../types.js';
import { encodeConfChange } from './conf-change-codec.js';
import { confChangeIsValid } from './conf-tracker.js';
import { ReadsCore } from './core-reads.js';

const committedEntriesPerReadyMax = 4096;
const defaultSnapshotTail = 1024;

/**
 * The pure Raft core (etcd/raft's raft + RawNode): no I/O, no timers, no clock of its own.
 * Inputs: tick(), step(), propose*(), readIndex(); output: ready()/advance().
 */
export class Core extends ReadsCore implements RaftCore {
  // ---- public surface ------------------------------------------------------------------

  tick(): void {
    this.ticksSinceStart++;
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        if (this.state === 'leader') this.stepLeader(m);
        else if (this.state === 'follower') this.stepFollower(m);
        else this.stepCandidate(m);
    }
  }

  propose(data: Uint8Array): number {
    this.checkCanPropose();
    return this.appendEntry(EntryType.Normal, data);
  }

  proposeConfChange(change: ConfChange): number {
    this.checkCanPropose();
    if (!this.noopCommitted()) throw new DrlError('unavailable', 'leader not ready yet');
    if (this.pendingConfIndex > this.log.applied) {
      throw new DrlError('unavailable', 'another membership change is in progress');
    }
    if (!confChangeIsValid(this.conf, change)) {
      throw new DrlError('invalid_argument', `invalid ${change.type} of ${change.id}`);
    }
    // A voter that is far behind would stall commits until it caught up: promote only a
    // learner that already holds everything committed.
    const match = this.prs.get(change.id)?.match ?? 0;
    if (change.type === 'promote' && match < this.log.committed) {
      throw new DrlError('unavailable', `learner ${change.id} has not caught up yet`);
    }
    const index = this.appendEntry(EntryType.ConfChange, encodeConfChange(change));
    this.pendingConfIndex = index;
    return index;
  }

  readIndex(requestId: number): void {
    if (this.state !== 'leader') throw this.notLeader();
    if (!this.noopCommitted()) {
      if (this.readsAwaitingNoop.length >= 100_000) throw new DrlError('unavailable', 'busy');
      this.readsAwaitingNoop.push(requestId);
      return;
    }
    this.serveRead(requestId);
  }

  hasLease(): boolean {
    if (this.state !== 'leader' || this.leadTransferee !== null) return false;
    if (this.timeoutNowSent || !this.noopCommitted()) return false;
    if (this.isSingleVoter()) return true;
    if (!this.cfg.checkQuorum && !this.bug('lease-without-quorum')) return false;
    return this.env.nowMs() < this.rounds.leaseExpiryMs;
  }

  transferLeader(to: NodeId): void {
    if (this.state !== 'leader') throw this.notLeader();
    if (to === this.id) return;
    if (!this.conf.voters.includes(to)) {
      throw new DrlError('invalid_argument', `${to} is not a voter`);
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    // The target will win by a forced election that ignores stickiness: stop claiming a lease.
    this.rounds.leaseExpiryMs = 0;
    this.electionElapsed = 0;
    const pr = this.prs.get(to);
    if (pr && pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  snapshotTaken(index: number): void {
    if (index > this.log.applied) {
      throw new Error(`raft: snapshot at ${index} past applied ${this.log.applied}`);
    }
    const term = this.log.term(index);
    if (term === undefined) return;
    if ((this.log.snapshot?.index ?? 0) >= index) return;
    this.log.snapshot = { index, term, conf: this.confs.confAt(index) };
    const tail = this.cfg.snapshotTailEntries ?? defaultSnapshotTail;
    const compactTo = Math.min(index - tail, this.log.stableIndex);
    if (compactTo > this.log.offset) {
      this.confs.compactedTo(compactTo);
      this.log.compactTo(compactTo);
    }
  }

  snapshotMeta(): SnapshotMeta | null {
    const m = this.log.snapshot;
    return m
      ? {
          index: m.index,
          term: m.term,
          conf: { voters: [...m.conf.voters], learners: [...m.conf.learners] },
        }
      : null;
  }

  logStartMeta(): SnapshotMeta | null {
    const index = this.log.offset;
    if (index === 0) return null;
    const conf = this.confs.confAt(index);
    return {
      index,
      term: this.log.offsetTerm,
      conf: { voters: [...conf.voters], learners: [...conf.learners] },
    };
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.prs.get(to);
    if (this.state !== 'leader' || !pr || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the next heartbeat ack before probing (etcd does the same).
    pr.msgAppFlowPaused = true;
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const l = this.log;
    return (
      this.msgs.length > 0 ||
      l.lastIndex() > l.emittedIndex ||
      l.committed > l.appliedEmitted ||
      l.pendingSnapshot !== null ||
      this.readStates.length > 0 ||
      this.snapshotSends.length > 0 ||
      (this.state === 'leader' &&
        (this.appendsRequested || this.commitBroadcastRequested || this.rounds.roundRequested)) ||
      this.hardChanged() ||
      this.softChanged()
    );
  }

  /**
   * Also while a full Ready is outstanding (its write in flight, async storage writes): what
   * is emitted here is committed and already durable, and follows every committed entry the
   * outstanding Ready handed out (appliedEmitted only grows). Nothing is emitted past the
   * durable index, so entries of the write in flight wait for its advance().
   */
  hasDurableCommitted(): boolean {
    const l = this.log;
    if (this.applyReady !== null || l.pendingSnapshot !== null) return false;
    return Math.min(l.committed, l.stableIndex) > l.appliedEmitted;
  }

  readyDurableCommitted(): Ready {
    if (this.applyReady !== null) throw new Error('raft: readyDurableCommitted() before advance()');
    const l = this.log;
    const upTo = Math.min(l.committed, l.stableIndex);
    const committedEntries = l.committedToEmit(committedEntriesPerReadyMax, upTo);
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted) {
      if (lastCommitted.index > l.stableIndex) {
        throw new Error(`raft invariant: applying ${lastCommitted.index} before it is durable`);
      }
      l.appliedEmitted = lastCommitted.index;
    }
    // Nothing to persist or send: hard state, messages and new entries wait for the full Ready.
    const rd: Ready = {
      softState: null,
      hardState: null,
      entries: [],
      snapshot: null,
      messages: [],
      committedEntries,
      readStates: [],
      snapshotSends: [],
    };
    this.applyReady = rd;
    return rd;
  }

  ready(): Ready {
    if (this.outstanding || this.applyReady !== null) {
      throw new Error('raft: ready() called before advance()');
    }
    this.flushLeaderSends();
    const l = this.log;
    const hard = this.hardState();
    const soft: SoftState = { leader: this.lead, role: this.role() };
    const rd: Ready = {
      softState: this.softChanged() ? soft : null,
      hardState: this.hardChanged() ? hard : null,
      entries: l.unemittedEntries(),
      snapshot: l.pendingSnapshot,
      messages: this.msgs,
      committedEntries: l.committedToEmit(committedEntriesPerReadyMax),
      readStates: this.readStates,
      snapshotSends: this.snapshotSends,
    };
    if (hard.commit < this.prevHard.commit) throw new Error('raft invariant: commit moved back');
    if (hard.term < this.prevHard.term) throw new Error('raft invariant: term moved back');
    this.prevHard = hard;
    this.prevSoft = soft;
    l.emittedIndex = l.lastIndex();
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted) l.appliedEmitted = lastCommitted.index;
    l.pendingSnapshot = null;
    this.msgs = [];
    this.readStates = [];
    this.snapshotSends = [];
    this.outstanding = true;
    return rd;
  }

  advance(rd: Ready): void {
    const l = this.log;
    if (rd === this.applyReady) {
      this.applyReady = null;
      const last = rd.committedEntries[rd.committedEntries.length - 1];
      if (last) l.appliedTo(last.index);
      return;
    }
    if (!this.outstanding) throw new Error('raft: advance() without ready()');
    this.outstanding = false;
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) l.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot) l.appliedTo(rd.snapshot.index);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted) l.appliedTo(lastCommitted.index);
    if (this.state === 'leader') {
      // The leader's own vote in the commit count is its durable log only.
      const self = this.prs.get(this.id);
      if (self?.maybeUpdate(l.stableIndex)) this.maybeCommitAndBroadcast();
    }
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role(),
      term: this.term,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      conf: { voters: [...this.conf.voters], learners: [...this.conf.learners] },
    };
  }

  isLeader(): boolean {
    return this.state === 'leader';
  }

  leaderId(): NodeId | null {
    return this.lead;
  }

  commitIndex(): number {
    return this.log.committed;
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  voters(): readonly NodeId[] {
    return this.conf.voters;
  }

  // ---- leader ticks --------------------------------------------------------------------

  protected tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, null);
        return;
      }
      if (this.leadTransferee !== null) this.leadTransferee = null;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }
}

export function createRaftCore(config: RaftConfig, log: LogView, env: RaftEnv): RaftCore {
  return new Core(config, log, env);
}
