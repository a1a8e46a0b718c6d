import { DrlError } from '../../errors.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  LogView,
  Message,
  NodeId,
  RaftConfig,
  RaftCore,
  RaftEnv,
  RaftStatus,
  ReadState,
  Ready,
  Role,
  SnapshotSend,
  SoftState,
} from '../types.js';
import { EntryType, MessageType } from '../types.js';
import { bootstrapEntries } from './bootstrap.js';
import { encodeConfChange } from './conf-change-codec.js';
import { ConfTracker, confChangeIsValid } from './conf-tracker.js';
import { entrySize } from './entry-size.js';
import { HeartbeatRounds } from './heartbeat-rounds.js';
import { campaignTransfer, newMessage } from './message.js';
import { Progress } from './progress.js';
import { majorityValue } from './quorum.js';
import { RaftLog } from './raft-log.js';

type State = 'follower' | 'precandidate' | 'candidate' | 'leader';
type CampaignKind = 'pre' | 'election' | 'transfer';

const committedEntriesPerReadyMax = 4096;
const defaultSnapshotTail = 1024;
const defaultMaxUncommitted = 65_536;
const emptyData = new Uint8Array(0);

/**
 * The pure Raft core (etcd/raft's raft + RawNode): no I/O, no timers, no clock of its own.
 * Inputs: tick(), step(), propose*(), readIndex(); output: ready()/advance().
 */
export class Core implements RaftCore {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  private readonly env: RaftEnv;
  private readonly log: RaftLog;
  private readonly confs: ConfTracker;
  private conf: ConfState;

  private state: State = 'follower';
  private term: number;
  private vote: NodeId | null;
  private lead: NodeId | null = null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Ticks since start: a restarted node refuses votes for one election timeout (lease safety). */
  private ticksSinceStart = 0;

  private readonly votes = new Map<NodeId, boolean>();
  private readonly prs = new Map<NodeId, Progress>();
  private readonly rounds = new HeartbeatRounds();
  /** ReadIndex requests that arrived before this leader's no-op committed. */
  private readsAwaitingNoop: number[] = [];
  private pendingConfIndex = 0;
  private leadTransferee: NodeId | null = null;
  /** Proposals since the last Ready: flushed as batched Apps when the Ready is built. */
  private appendsRequested = false;
  /** The commit index advanced since the last Ready: tell followers (coalesced per Ready). */
  private commitBroadcastRequested = false;

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private snapshotSends: SnapshotSend[] = [];
  private prevHard: HardState;
  private prevSoft: SoftState;
  private outstanding = false;

  constructor(config: RaftConfig, view: LogView, env: RaftEnv) {
    this.id = config.id;
    this.cfg = config;
    this.env = env;
    if (config.electionTicks <= config.heartbeatTicks || config.heartbeatTicks < 1) {
      throw new DrlError('invalid_argument', 'electionTicks must exceed heartbeatTicks >= 1');
    }
    this.log = RaftLog.load(view, config.applied);
    this.term = view.hardState.term;
    this.vote = view.hardState.vote;
    this.prevHard = { ...view.hardState, commit: this.log.committed };
    const snap = view.snapshot;
    const fresh = snap === null && this.log.lastIndex() === 0;
    if (fresh && config.peers.length > 0) {
      const entries = bootstrapEntries(config.peers);
      this.log.append(entries, false);
      this.log.commitTo(entries.length);
      this.term = Math.max(this.term, 1);
    }
    const stored = this.log.slice(this.log.firstIndex(), this.log.lastIndex() + 1, Infinity);
    // `peers` is the fallback configuration for a log that carries none (tests, old logs).
    const logHasConf = stored.some((e) => e.type === EntryType.ConfChange);
    const base = logHasConf
      ? { voters: [], learners: [] }
      : { voters: [...config.peers], learners: [] };
    this.confs = new ConfTracker(snap?.index ?? 0, snap?.conf ?? base);
    this.confs.appended(stored);
    this.conf = this.confs.current();
    this.prevSoft = { leader: null, role: this.role() };
    this.resetRandomizedElectionTimeout();
  }

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
    if (!this.noopCommitted()) return false;
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

  ready(): Ready {
    if (this.outstanding) throw new Error('raft: ready() called before advance()');
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
    if (!this.outstanding) throw new Error('raft: advance() without ready()');
    this.outstanding = false;
    const l = this.log;
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

  // ---- state transitions ---------------------------------------------------------------

  private role(): Role {
    if (this.state === 'follower' && this.conf.learners.includes(this.id)) return 'learner';
    return this.state;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private hardChanged(): boolean {
    const p = this.prevHard;
    return p.term !== this.term || p.vote !== this.vote || p.commit !== this.log.committed;
  }

  private softChanged(): boolean {
    return this.prevSoft.leader !== this.lead || this.prevSoft.role !== this.role();
  }

  private setTerm(term: number): void {
    if (term < this.term) throw new Error(`raft invariant: term ${this.term} -> ${term}`);
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
  }

  private setVote(id: NodeId): void {
    if (this.vote !== null && this.vote !== id) {
      throw new Error(`raft invariant: vote changed within term ${this.term}`);
    }
    this.vote = id;
  }

  private reset(term: number): void {
    this.setTerm(term);
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.votes.clear();
    this.prs.clear();
    this.rounds.reset();
    this.readsAwaitingNoop = [];
    this.appendsRequested = false;
    this.commitBroadcastRequested = false;
  }

  private becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.state = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    // A pre-candidate changes neither term nor vote: a lost pre-election disturbs nobody.
    this.votes.clear();
    this.prs.clear();
    this.rounds.reset();
    this.state = 'precandidate';
    this.lead = null;
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.setVote(this.id);
    this.state = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.state = 'leader';
    this.lead = this.id;
    const last = this.log.lastIndex();
    for (const id of this.members()) this.addProgress(id, last + 1);
    const self = this.prs.get(this.id);
    if (self) {
      self.maybeUpdate(this.log.stableIndex);
      self.becomeReplicate();
    }
    // Conservative: any uncommitted conf change in the log counts as pending.
    this.pendingConfIndex = last;
    if (!this.bug('skip-leader-noop')) this.appendEntry(EntryType.Normal, emptyData);
    else this.maybeCommitAndBroadcast();
  }

  private members(): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners];
  }

  private addProgress(id: NodeId, next: number): void {
    const learner = this.conf.learners.includes(id);
    const pr = new Progress(next, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes, learner);
    pr.recentActive = true;
    this.prs.set(id, pr);
  }

  private resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTicks;
    this.randomizedElectionTimeout = e + this.env.randomInt(e);
  }

  private promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  private isSingleVoter(): boolean {
    return this.conf.voters.length === 1 && this.conf.voters[0] === this.id;
  }

  private bug(name: string): boolean {
    return this.cfg.testBugs.has(name);
  }

  private notLeader(): DrlError {
    return new DrlError('not_leader', `not the leader (leader: ${this.lead ?? 'unknown'})`);
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  // ---- ticks ---------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre' : 'election');
    }
  }

  private tickHeartbeat(): void {
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

  private quorumActive(): boolean {
    let active = 0;
    for (const id of this.conf.voters) {
      const pr = this.prs.get(id);
      if (id === this.id || pr?.recentActive) active++;
    }
    for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
    return active > this.conf.voters.length / 2;
  }

  // ---- elections -----------------------------------------------------------------------

  private campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteTerm: number;
    let type: MessageType;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      type = MessageType.PreVote;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
      type = MessageType.Vote;
    }
    if (this.recordVote(this.id, true) === 'won') {
      this.wonElection(kind);
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    const context = kind === 'transfer' ? campaignTransfer : 0;
    for (const id of this.conf.voters) {
      if (id === this.id) continue;
      this.send(newMessage(type, this.id, id, voteTerm, { index, logTerm, context }));
    }
  }

  private wonElection(kind: CampaignKind): void {
    if (kind === 'pre') this.campaign('election');
    else this.becomeLeader();
  }

  private recordVote(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    let yes = 0;
    let no = 0;
    for (const voter of this.conf.voters) {
      const v = this.votes.get(voter);
      if (v === true) yes++;
      else if (v === false) no++;
    }
    const quorum = Math.floor(this.conf.voters.length / 2) + 1;
    if (yes >= quorum) return 'won';
    if (no >= quorum) return 'lost';
    return 'pending';
  }

  /** Leader stickiness: heard from a live leader within the election timeout. */
  private inLease(): boolean {
    if (!this.cfg.checkQuorum) return false;
    if (this.state === 'leader') return true;
    const recentlyStarted = this.ticksSinceStart < this.cfg.electionTicks;
    return (this.lead !== null || recentlyStarted) && this.electionElapsed < this.cfg.electionTicks;
  }

  /** Returns false when the message is to be dropped. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = m.type === MessageType.Vote && m.context === campaignTransfer;
      if (!force && this.inLease()) return false;
    }
    if (m.type === MessageType.PreVote) return true;
    if (m.type === MessageType.PreVoteResp && !m.reject) return true;
    const fromLeader =
      m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat;
    if ((this.cfg.checkQuorum || this.cfg.preVote) && fromLeader) {
      // Tell a stale leader our term so it steps down (it may be cut off from the rest).
      this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term));
    } else if (m.type === MessageType.PreVote) {
      this.send(newMessage(MessageType.PreVoteResp, this.id, m.from, this.term, { reject: true }));
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (pre && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The grant carries the candidate's term; a real vote is durable before it is sent.
      this.send(newMessage(respType, this.id, m.from, m.term));
      if (!pre) {
        this.electionElapsed = 0;
        this.setVote(m.from);
      }
    } else {
      this.send(newMessage(respType, this.id, m.from, this.term, { reject: true }));
    }
  }

  private stepCandidate(m: Message): void {
    const respType = this.state === 'precandidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case respType: {
        const result = this.recordVote(m.from, !m.reject);
        if (result === 'won') this.wonElection(this.state === 'precandidate' ? 'pre' : 'election');
        else if (result === 'lost') this.becomeFollower(this.term, null);
        return;
      }
      default:
        return;
    }
  }

  // ---- follower ------------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.heardFromLeader(m.from);
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send(
          newMessage(MessageType.HeartbeatResp, this.id, m.from, this.term, { context: m.context }),
        );
        return;
      case MessageType.Snap:
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        this.campaign('transfer');
        return;
      default:
        return;
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.lead = from;
  }

  private handleAppend(m: Message): void {
    const l = this.log;
    if (m.index < l.committed) {
      this.send(
        newMessage(MessageType.AppResp, this.id, m.from, this.term, { index: l.committed }),
      );
      return;
    }
    if (l.matchTerm(m.index, m.logTerm)) {
      const lastNew = m.index + m.entries.length;
      const conflict = l.findConflict(m.entries);
      if (conflict !== 0) {
        const fresh = m.entries.slice(conflict - m.index - 1);
        const truncatedAt = l.append(fresh, true);
        if (truncatedAt !== 0) this.confs.truncatedFrom(truncatedAt);
        this.confs.appended(fresh);
        this.conf = this.confs.current();
      }
      l.commitTo(Math.min(m.commit, lastNew));
      this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term, { index: lastNew }));
      return;
    }
    const hint = l.findConflictByTerm(Math.min(m.index, l.lastIndex()), m.logTerm);
    this.send(
      newMessage(MessageType.AppResp, this.id, m.from, this.term, {
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  private handleSnapshot(m: Message): void {
    const meta = m.snapshot?.meta;
    if (!meta) return;
    const l = this.log;
    if (meta.index > l.committed) {
      if (l.matchTerm(meta.index, meta.term)) {
        // We already hold that prefix: just fast-forward the commit, no install needed.
        l.commitTo(meta.index);
      } else {
        l.restore(meta);
        this.confs.reset(meta.index, meta.conf);
        this.conf = this.confs.current();
      }
    }
    // Installed, fast-forwarded or stale: either way we now hold everything up to commit.
    this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term, { index: l.committed }));
  }

  // ---- leader --------------------------------------------------------------------------

  private checkCanPropose(): void {
    if (this.state !== 'leader') throw this.notLeader();
    if (this.leadTransferee !== null) {
      throw new DrlError('not_leader', `leadership transfer to ${this.leadTransferee} in progress`);
    }
    const max = this.cfg.maxUncommittedEntries ?? defaultMaxUncommitted;
    if (this.log.lastIndex() - this.log.committed >= max) {
      throw new DrlError('unavailable', 'too many uncommitted entries');
    }
  }

  private appendEntry(type: EntryType, data: Uint8Array): number {
    const index = this.log.lastIndex() + 1;
    const entry: Entry = { index, term: this.term, type, data };
    this.log.append([entry], false);
    if (type === EntryType.ConfChange && this.confs.appended([entry])) this.confChanged();
    this.appendsRequested = true;
    return index;
  }

  /** The configuration changed (on append): track new members, forget removed ones. */
  private confChanged(): void {
    this.conf = this.confs.current();
    if (this.state !== 'leader') return;
    const members = new Set(this.members());
    for (const id of [...this.prs.keys()]) if (!members.has(id)) this.prs.delete(id);
    for (const id of members) {
      const pr = this.prs.get(id);
      const learner = this.conf.learners.includes(id);
      if (!pr || pr.isLearner !== learner) {
        this.addProgress(id, this.log.lastIndex() + 1);
        const fresh = this.prs.get(id);
        if (fresh && pr) fresh.maybeUpdate(pr.match);
      }
    }
    if (!this.conf.voters.includes(this.id)) return;
    const self = this.prs.get(this.id);
    self?.maybeUpdate(this.log.stableIndex);
  }

  private flushLeaderSends(): void {
    if (this.state !== 'leader') return;
    if (this.appendsRequested || this.commitBroadcastRequested) {
      const commit = this.commitBroadcastRequested;
      this.appendsRequested = false;
      this.commitBroadcastRequested = false;
      for (const [id, pr] of this.prs) {
        if (id === this.id) continue;
        const sent = this.sendAppendsWhileOpen(id);
        if (commit && sent === 0 && pr.sentCommit < this.log.committed) this.sendAppend(id, true);
      }
    }
    if (this.rounds.roundRequested) this.bcastHeartbeat();
  }

  /** Sends Apps to `to` until flow control pauses it or nothing is left; returns how many. */
  private sendAppendsWhileOpen(to: NodeId): number {
    let sent = 0;
    while (sent < this.cfg.maxInflightMsgs && this.sendAppend(to, false)) sent++;
    return sent;
  }

  /** Sends one App to `to` if flow control allows; true if one was sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const l = this.log;
    if (pr.next > l.lastIndex() + 1) pr.next = l.lastIndex() + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = l.term(prevIndex);
    if (prevTerm === undefined) {
      this.sendSnapshot(to, pr);
      return false;
    }
    const entries =
      pr.state === 'replicate' && pr.inflights.full()
        ? []
        : l.slice(pr.next, l.lastIndex() + 1, this.cfg.maxEntriesBytesPerMsg);
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    this.send(
      newMessage(MessageType.App, this.id, to, this.term, {
        index: prevIndex,
        logTerm: prevTerm,
        entries,
        commit: l.committed,
      }),
    );
    pr.sentEntries(entries.length, prevIndex + entries.length, bytes);
    pr.sentCommit = Math.max(pr.sentCommit, l.committed);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    const meta = this.log.snapshot;
    if (!meta) throw new Error('raft: log compacted without a snapshot');
    pr.becomeSnapshot(meta.index);
    this.snapshotSends.push({ to, meta });
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage(MessageType.TimeoutNow, this.id, to, this.term));
  }

  private bcastHeartbeat(): void {
    const now = this.env.nowMs();
    const round = this.rounds.start(now);
    if (this.bug('lease-without-quorum')) {
      this.rounds.leaseExpiryMs = Math.max(this.rounds.leaseExpiryMs, now + this.leaseMs());
    }
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      const commit = Math.min(pr.match, this.log.committed);
      this.send(
        newMessage(MessageType.Heartbeat, this.id, id, this.term, { commit, context: round }),
      );
    }
    this.afterRoundAck();
  }

  /**
   * How long a quorum's ack of a round protects us, from the round's send time. Followers
   * refuse votes for electionTicks ticks after hearing from us; the first of those ticks may
   * come right away, so only (electionTicks - 1) ticks are certain, shortened by clock drift.
   */
  private leaseMs(): number {
    const ticks = this.cfg.electionTicks - 1;
    return ticks * this.cfg.tickMs * (1 - this.cfg.clockDriftBound);
  }

  private stepLeader(m: Message): void {
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.AppResp:
        pr.recentActive = true;
        if (m.reject) this.handleAppendReject(m, pr);
        else this.handleAppendAck(m, pr);
        return;
      case MessageType.HeartbeatResp:
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        if (m.context > pr.ackedRound) pr.ackedRound = m.context;
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
        this.afterRoundAck();
        return;
      default:
        return;
    }
  }

  private handleAppendReject(m: Message, pr: Progress): void {
    let next = m.rejectHint;
    if (m.logTerm > 0) next = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, next)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      this.sendAppend(m.from, true);
    }
  }

  private handleAppendAck(m: Message, pr: Progress): void {
    // An ack past our log cannot come from a correct follower of this term: ignore it.
    if (m.index > this.log.lastIndex()) return;
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
      pr.msgAppFlowPaused = pr.inflights.full();
    }
    if (!this.maybeCommitAndBroadcast() && wasPaused) this.sendAppend(m.from, false);
    this.sendAppendsWhileOpen(m.from);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private maybeCommitAndBroadcast(): boolean {
    if (!this.maybeCommit()) return false;
    if (this.state === 'leader') this.commitBroadcastRequested = true;
    return true;
  }

  /** Commits the quorum's match index, but by counting only an entry of the current term. */
  private maybeCommit(): boolean {
    const matches: number[] = [];
    for (const id of this.conf.voters) matches.push(this.prs.get(id)?.match ?? 0);
    const index = majorityValue(matches);
    if (index <= this.log.committed) return false;
    const oldTermAllowed = this.bug('commit-old-term-by-count');
    if (this.log.term(index) !== this.term && !oldTermAllowed) return false;
    this.log.commitTo(index);
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    if (this.noopCommitted() && this.readsAwaitingNoop.length > 0) {
      const waiting = this.readsAwaitingNoop;
      this.readsAwaitingNoop = [];
      for (const id of waiting) this.serveRead(id);
    }
    // A leader removed from the voters steps down once that change is committed.
    if (!this.conf.voters.includes(this.id) && this.log.committed >= this.confs.lastChangeIndex()) {
      this.becomeFollower(this.term, null);
    }
  }

  /** Whether this leader may serve reads: its own no-op (an entry of its term) is committed. */
  private noopCommitted(): boolean {
    if (this.bug('skip-leader-noop')) return true;
    return this.log.term(this.log.committed) === this.term;
  }

  private serveRead(requestId: number): void {
    if (this.isSingleVoter() || this.hasLease()) {
      this.readStates.push({ requestId, index: this.log.committed });
      return;
    }
    try {
      this.rounds.queueRead(requestId, this.log.committed);
    } catch {
      throw new DrlError('unavailable', 'too many pending reads');
    }
  }

  /** Recomputes the round a quorum acked (the leader acks its own current round). */
  private afterRoundAck(): void {
    const acked: number[] = [];
    for (const id of this.conf.voters) {
      if (id === this.id) acked.push(this.rounds.current);
      else acked.push(this.prs.get(id)?.ackedRound ?? 0);
    }
    const round = majorityValue(acked);
    if (round <= this.rounds.confirmed) return;
    const leaseMs = this.leadTransferee === null && this.cfg.checkQuorum ? this.leaseMs() : 0;
    this.rounds.confirm(round, leaseMs, this.readStates);
  }
}

export function createRaftCore(config: RaftConfig, log: LogView, env: RaftEnv): RaftCore {
  return new Core(config, log, env);
}
