import { DrlError } from '../../errors.js';
import type {
  ConfState,
  HardState,
  LogView,
  Message,
  NodeId,
  RaftConfig,
  RaftEnv,
  ReadState,
  Ready,
  Role,
  SnapshotSend,
  SoftState,
} from '../types.js';
import { EntryType } from '../types.js';
import { bootstrapEntries } from './bootstrap.js';
import { ConfTracker } from './conf-tracker.js';
import { HeartbeatRounds } from './heartbeat-rounds.js';
import { Progress } from './progress.js';
import { RaftLog } from './raft-log.js';

export type State = 'follower' | 'precandidate' | 'candidate' | 'leader';
export type CampaignKind = 'pre' | 'election' | 'transfer';

/**
 * The core's state and its transitions (etcd raft.go's fields, reset and become*). The core is
 * one object built in layers, each file one concern: state (here), elections, follower,
 * leader replication, reads/leases, and the public RawNode surface (raft-core.ts).
 */
export abstract class CoreState {
  readonly id: NodeId;
  protected readonly cfg: RaftConfig;
  protected readonly env: RaftEnv;
  protected readonly log: RaftLog;
  protected readonly confs: ConfTracker;
  protected conf: ConfState;

  protected state: State = 'follower';
  protected term: number;
  protected vote: NodeId | null;
  protected lead: NodeId | null = null;

  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  /** Ticks since start: a restarted node refuses votes for one election timeout (lease safety). */
  protected ticksSinceStart = 0;

  protected readonly votes = new Map<NodeId, boolean>();
  protected readonly prs = new Map<NodeId, Progress>();
  protected readonly rounds = new HeartbeatRounds();
  /** ReadIndex requests that arrived before this leader's no-op committed. */
  protected readsAwaitingNoop: number[] = [];
  protected pendingConfIndex = 0;
  protected leadTransferee: NodeId | null = null;
  /**
   * A TimeoutNow sent in this term may still be in flight after its transfer aborted, and its
   * target wins a forced election that ignores lease stickiness: no lease for the rest of the term.
   */
  protected timeoutNowSent = false;
  /** Proposals since the last Ready: flushed as batched Apps when the Ready is built. */
  protected appendsRequested = false;
  /** The commit index advanced since the last Ready: tell followers (coalesced per Ready). */
  protected commitBroadcastRequested = false;

  protected msgs: Message[] = [];
  protected readStates: ReadState[] = [];
  protected snapshotSends: SnapshotSend[] = [];
  protected prevHard: HardState;
  protected prevSoft: SoftState;
  protected outstanding = false;
  /** The apply-only Ready (readyDurableCommitted) handed out and not advanced yet. */
  protected applyReady: Ready | null = null;

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

  protected role(): Role {
    if (this.state === 'follower' && this.conf.learners.includes(this.id)) return 'learner';
    return this.state;
  }

  protected hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  protected hardChanged(): boolean {
    const p = this.prevHard;
    return p.term !== this.term || p.vote !== this.vote || p.commit !== this.log.committed;
  }

  protected softChanged(): boolean {
    return this.prevSoft.leader !== this.lead || this.prevSoft.role !== this.role();
  }

  protected setTerm(term: number): void {
    if (term < this.term) throw new Error(`raft invariant: term ${this.term} -> ${term}`);
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
  }

  protected setVote(id: NodeId): void {
    if (this.vote !== null && this.vote !== id) {
      throw new Error(`raft invariant: vote changed within term ${this.term}`);
    }
    this.vote = id;
  }

  protected reset(term: number): void {
    this.setTerm(term);
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.timeoutNowSent = false;
    this.votes.clear();
    this.prs.clear();
    this.rounds.reset();
    this.readsAwaitingNoop = [];
    this.appendsRequested = false;
    this.commitBroadcastRequested = false;
  }

  protected becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.state = 'follower';
    this.lead = lead;
  }

  protected becomePreCandidate(): void {
    // A pre-candidate changes neither term nor vote: a lost pre-election disturbs nobody.
    this.votes.clear();
    this.prs.clear();
    this.rounds.reset();
    this.state = 'precandidate';
    this.lead = null;
  }

  protected becomeCandidate(): void {
    this.reset(this.term + 1);
    this.setVote(this.id);
    this.state = 'candidate';
  }

  protected members(): NodeId[] {
    return [...this.conf.voters, ...this.conf.learners];
  }

  protected addProgress(id: NodeId, next: number): void {
    const learner = this.conf.learners.includes(id);
    const pr = new Progress(next, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes, learner);
    pr.recentActive = true;
    this.prs.set(id, pr);
  }

  protected resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTicks;
    this.randomizedElectionTimeout = e + this.env.randomInt(e);
  }

  protected promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  protected isSingleVoter(): boolean {
    return this.conf.voters.length === 1 && this.conf.voters[0] === this.id;
  }

  protected bug(name: string): boolean {
    return this.cfg.testBugs.has(name);
  }

  protected notLeader(): DrlError {
    return new DrlError('not_leader', `not the leader (leader: ${this.lead ?? 'unknown'})`);
  }

  protected send(m: Message): void {
    this.msgs.push(m);
  }
}
