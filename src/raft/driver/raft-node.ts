import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { DrlError, isDrlError } from '../../errors.js';
import { openRaftLog } from '../../storage/open-raft-log.js';
import { LOG_STORE_KINDS, type RaftLogStorage } from '../../storage/raft-log-storage.js';
import { LOG_WRITE_MODES } from '../../storage/raft-log-store.js';
import { createRaftCore, decodeConfChange, newMessage } from '../core/index.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import type { TransportStats } from '../transport/transport-types.js';
import {
  type ConfChange,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type RaftCore,
  type RaftStatus,
  type Ready,
  type SnapshotMeta,
  type SnapshotSend,
} from '../types.js';
import { type EntryTracer, TraceStage } from './entry-trace.js';
import { LogCompactor } from './log-compactor.js';
import { type RaftNodeOptions, type ResolvedEnv, raftConfig, resolveEnv } from './node-options.js';
import { NotLeaderError } from './not-leader-error.js';
import { PendingRequests } from './pending-requests.js';
import { type ReceivedSnapshot, SnapshotReceiver } from './snapshot-receiver.js';
import { SnapshotSender } from './snapshot-sender.js';
import {
  readStagedSnapshot,
  removeStagedSnapshot,
  stageReceivedSnapshot,
} from './staged-snapshot.js';
import {
  bytesSource,
  type ProposalDone,
  type Proposed,
  type SnapshotSource,
} from './state-machine.js';

/** Readies handled per event-loop turn before yielding to I/O (bounds one turn's work). */
const READIES_PER_TURN_MAX = 8;
/**
 * leaderAckWaitMs default: off. On the shared box it halved the leader fsyncs an answer waits
 * for, but the p99 gain was not shown (docs/notes/raft-io.md, 2026-12-04 "tail").
 */
const DEFAULT_LEADER_ACK_WAIT_MS = 0;
/** Test bug 'ack-before-fsync': how long acknowledged log writes stay uncommitted. */
const HELD_WRITES_MS = 1000;

export interface LeaderChange {
  leader: NodeId | null;
  term: number;
  role: RaftStatus['role'];
}

/**
 * One Raft member: the pure core plus its disk (RaftLogStore), network (TcpTransport), timers
 * and state machine. Everything that happens (tick, message, proposal) marks the node dirty;
 * one Ready pass per event-loop turn persists (one fsync), sends, applies and advances, so
 * whatever arrived while a persist ran is batched into the next one (group commit).
 *
 * Events: 'leader' (LeaderChange) when the known leader or this node's role changes;
 * 'conf-change' (ConfChange) when a membership change is applied; 'snapshot-installed'
 * (SnapshotMeta) when a snapshot from the leader replaced the state machine.
 *
 * Snapshots: a peer behind the compaction point gets the state machine's bytes (snapshotData)
 * streamed in chunks (SnapshotSender / SnapshotReceiver); the receiver stages them on disk,
 * records the snapshot in the log, restores the state machine, then drops the staged copy.
 */
export class RaftNode<R = unknown> extends EventEmitter {
  readonly id: NodeId;
  private readonly o: RaftNodeOptions<R>;
  private readonly env: ResolvedEnv;
  private readonly store: RaftLogStorage;
  private readonly core: RaftCore;
  private readonly transport: TcpTransport;
  private readonly pending = new PendingRequests<R>();
  private readonly requestTimeoutMs: number;
  private readonly tickMs: number;
  private readonly leaderSendsBeforePersist: boolean;
  private readonly applyDurableFirst: boolean;
  private readonly asyncLogWrites: boolean;
  /** Async log writes: the Ready whose write is in flight (one at a time), and its waiters. */
  private writing: Ready | null = null;
  private writeWaiters: (() => void)[] = [];
  /** An apply-first pass ran: the next pass handles full Readies (persist, send, apply). */
  private fullPassNext = false;
  /**
   * leaderAckWaitMs: after a leader's full Ready, its entries up to ackWaitIndex wait for a
   * follower's ack until ackWaitUntilMs; the next full Ready (and its fsync) is held until then.
   */
  private readonly ackWaitMs: number;
  private ackWaitIndex = 0;
  private ackWaitUntilMs = 0;
  private ackWaitTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private heldWritesTimer: NodeJS.Timeout | null = null;
  private readyScheduled = false;
  private leader: NodeId | null = null;
  private role: RaftStatus['role'] = 'follower';
  private applied: number;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly sender: SnapshotSender;
  private readonly receiver: SnapshotReceiver;
  private readonly compactor: LogCompactor;
  /** A verified snapshot stepped into the core; installed if the next Ready asks for it. */
  private staged: ReceivedSnapshot | null = null;
  /** Snapshot sends asked for by the last Readies; started after advance(). */
  private sendsQueued: SnapshotSend[] = [];
  /** Diagnosis only (options.entryTracer): last commit index and AppResp index marked. */
  private readonly tracer: EntryTracer | null;
  private tracedCommit = 0;
  private respQueuedUpTo = 0;

  constructor(options: RaftNodeOptions<R>) {
    super();
    this.id = options.id;
    this.o = options;
    this.env = resolveEnv(options);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.leaderSendsBeforePersist = options.leaderSendsBeforePersist ?? true;
    this.applyDurableFirst = options.applyDurableFirst ?? true;
    const logWrites = options.logWrites ?? 'sync';
    if (!LOG_WRITE_MODES.includes(logWrites)) {
      throw new DrlError('invalid_argument', `raft: logWrites ${String(logWrites)}`);
    }
    this.asyncLogWrites = logWrites !== 'sync';
    this.ackWaitMs = options.leaderAckWaitMs ?? DEFAULT_LEADER_ACK_WAIT_MS;
    if (!(this.ackWaitMs >= 0)) throw new DrlError('invalid_argument', 'raft: leaderAckWaitMs < 0');
    this.tracer = options.entryTracer ?? null;
    mkdirSync(options.dataDir, { recursive: true });
    const logStore = options.logStore ?? 'file';
    if (!LOG_STORE_KINDS.includes(logStore)) {
      throw new DrlError('invalid_argument', `raft: logStore ${String(logStore)}`);
    }
    this.store = openRaftLog(options.dataDir, {
      kind: logStore,
      writes: logWrites,
      onSync: options.onSync,
      warn: (m) => options.logger.warn(m),
    });
    try {
      this.recoverStagedSnapshot();
      this.applied = options.stateMachine.appliedIndex?.() ?? 0;
      const config = raftConfig(options, this.applied);
      this.tickMs = config.tickMs;
      this.core = createRaftCore(config, this.store, this.env);
      this.compactor = new LogCompactor(this.core, this.store);
      this.sender = new SnapshotSender({
        id: options.id,
        send: (m) => this.transport.send(m),
        report: (to, ok) => this.onSnapshotReport(to, ok),
        onSourceError: (to, err) =>
          options.logger.error({ to, err }, 'raft: reading the snapshot to send failed'),
        ...options.snapshotStream,
      });
      this.receiver = new SnapshotReceiver(options.id, options.dataDir);
      const peers = { ...options.peers };
      delete peers[options.id];
      this.transport = new TcpTransport({
        randomInt: this.env.randomInt,
        ...options.transport,
        id: options.id,
        listen: options.listen,
        peers,
        secret: options.secret,
        logger: options.logger,
        onMessage: (m) => this.onMessage(m),
        ...(this.tracer ? { onFlushed: () => this.traceRespSent() } : {}),
      });
    } catch (err) {
      this.store.close();
      throw err;
    }
  }

  /** Listens, dials peers and starts ticking; resolves with the bound Raft address. */
  async start(): Promise<{ host: string; port: number }> {
    if (this.state !== 'new') throw new DrlError('invalid_argument', 'raft node already started');
    let bound: { host: string; port: number };
    try {
      bound = await this.transport.start();
    } catch (err) {
      // e.g. the Raft port is taken: leave nothing open behind.
      this.state = 'stopped';
      await this.transport.stop();
      this.store.close();
      throw err;
    }
    this.state = 'running';
    this.ticker = setInterval(() => this.onTick(), this.tickMs);
    if (this.o.raft?.testBugs?.has('ack-before-fsync')) this.startAckBeforeFsync();
    this.scheduleReady();
    return bound;
  }

  /** Resolves once `data` is committed and applied here, with the state machine's result. */
  propose(data: Uint8Array): Promise<Proposed<R>> {
    return new Promise((resolve, reject) => {
      this.proposeWith(data, (err, proposed) => {
        if (err) reject(err);
        else resolve(proposed!);
      });
    });
  }

  /**
   * `propose` for the hot path: `done` is called once, in a later microtask, with an error or
   * the index and result; no promise per proposal (the leader proposes once per request).
   */
  proposeWith(data: Uint8Array, done: ProposalDone<R>): void {
    let index: number;
    try {
      this.checkRunning();
      index = this.core.propose(data);
    } catch (err) {
      this.pending.refuse(done, this.translate(err));
      return;
    }
    if (this.tracer) this.tracer.mark(TraceStage.proposed, index, index);
    this.scheduleReady();
    this.pending.addProposal(index, data, this.env.nowMs() + this.requestTimeoutMs, done);
  }

  /** Appends a membership change; returns its index ('conf-change' is emitted once applied). */
  proposeConfChange(change: ConfChange): Promise<number> {
    try {
      this.checkRunning();
      const index = this.core.proposeConfChange(change);
      this.scheduleReady();
      return Promise.resolve(index);
    } catch (err) {
      return Promise.reject(this.translate(err));
    }
  }

  /** Linearizable read barrier: resolves with an index once this node has applied up to it. */
  readIndex(): Promise<number> {
    try {
      this.checkRunning();
    } catch (err) {
      return Promise.reject(err);
    }
    const { id, promise } = this.pending.newRead(this.env.nowMs() + this.requestTimeoutMs);
    try {
      this.core.readIndex(id);
    } catch (err) {
      this.pending.readFailed(id, this.translate(err));
      return promise;
    }
    this.scheduleReady();
    return promise;
  }

  /** True while this node leads and holds a lease: reads of applied state are linearizable. */
  hasLease(): boolean {
    return this.state === 'running' && this.core.hasLease();
  }

  transferLeader(to: NodeId): void {
    this.checkRunning();
    try {
      this.core.transferLeader(to);
    } catch (err) {
      throw this.translate(err);
    }
    this.scheduleReady();
  }

  status(): RaftStatus {
    return { ...this.core.status(), applied: this.applied };
  }

  // Cheap per-request reads: status() builds two objects and copies the configuration.
  isLeader(): boolean {
    return this.state === 'running' && this.core.isLeader();
  }

  leaderId(): NodeId | null {
    return this.core.leaderId();
  }

  appliedIndex(): number {
    return this.applied;
  }

  commitIndex(): number {
    return this.core.commitIndex();
  }

  lastIndex(): number {
    return this.core.lastIndex();
  }

  voters(): readonly NodeId[] {
    return this.core.voters();
  }

  /**
   * Resolves once the state machine has applied `index` (at once if it has), woken by the
   * apply itself rather than by polling; 'unavailable' after the request timeout.
   */
  waitApplied(index: number): Promise<number> {
    if (index <= this.applied) return Promise.resolve(this.applied);
    try {
      this.checkRunning();
    } catch (err) {
      return Promise.reject(err);
    }
    const { id, promise } = this.pending.newRead(this.env.nowMs() + this.requestTimeoutMs);
    this.pending.readIndexKnown(id, index, this.applied);
    return promise;
  }

  /** Where peers are dialed; a replicated address change calls this. */
  setPeerAddress(id: NodeId, address: string): void {
    this.transport.setPeer(id, address);
  }

  /** Raft address of every member this node dials, plus its own advertised one. */
  peerAddresses(): Record<NodeId, string> {
    return { ...this.transport.peerAddresses(), [this.id]: this.transport.advertisedAddress() };
  }

  /** Proposals and reads waiting for commit/apply (the in-flight gauge). */
  pendingCount(): number {
    return this.pending.size;
  }

  transportStats(): Readonly<TransportStats> {
    return this.transport.getStats();
  }

  /** Graceful stop: finishes the Ready in hand (persist + send), then closes network and disk. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    if (wasRunning && this.asyncLogWrites) {
      // The write in flight completes (its messages leave); nothing new is taken after it.
      this.state = 'stopping';
      while (this.writing) await new Promise<void>((resolve) => this.writeWaiters.push(resolve));
    } else if (wasRunning) {
      this.processReadies(true);
    }
    this.state = 'stopped';
    if (this.ticker) clearInterval(this.ticker);
    if (this.ackWaitTimer) clearTimeout(this.ackWaitTimer);
    if (this.heldWritesTimer) {
      clearInterval(this.heldWritesTimer);
      this.store.releaseHeldWrites();
    }
    this.pending.rejectAll(new DrlError('closed', 'raft node stopped'));
    await this.transport.stop();
    this.store.close();
  }

  /**
   * Test bug 'ack-before-fsync' (--test-mode --test-bugs only): persist() writes into a
   * transaction committed every HELD_WRITES_MS, while messages (AppResp, votes) leave and the
   * core counts entries as durable at once. A kill -9 of every node loses acknowledged entries.
   */
  private startAckBeforeFsync(): void {
    this.o.logger.warn('raft: TEST BUG ack-before-fsync: acknowledging before the log commit');
    this.store.holdWrites();
    this.heldWritesTimer = setInterval(() => {
      this.store.releaseHeldWrites();
      this.store.holdWrites();
    }, HELD_WRITES_MS);
  }

  private checkRunning(): void {
    if (this.state !== 'running') throw new DrlError('closed', `raft node is ${this.state}`);
  }

  private translate(err: unknown): Error {
    if (isDrlError(err) && err.code === 'not_leader') return new NotLeaderError(this.leader);
    return err instanceof Error ? err : new Error(String(err));
  }

  private onTick(): void {
    this.core.tick();
    this.sender.tick(this.env.nowMs());
    this.pending.expire(this.env.nowMs());
    this.scheduleReady();
  }

  private onMessage(m: Message): void {
    if (this.state !== 'running' || m.to !== this.id) return;
    if (m.clockMs !== undefined && this.o.peerClock) this.o.peerClock.onPeer(m.from, m.clockMs);
    if (m.type === MessageType.Snap) this.onSnapshotChunk(m);
    else if (m.type === MessageType.SnapResp) this.sender.onResponse(m, this.env.nowMs());
    else this.core.step(m);
    if (this.tracer) this.traceMessage(m);
    this.scheduleReady();
  }

  private traceMessage(m: Message): void {
    const t = this.tracer!;
    const n = m.entries.length;
    if (m.type === MessageType.App && n > 0)
      t.mark(TraceStage.received, m.entries[0]!.index, m.entries[n - 1]!.index);
    else if (m.type === MessageType.AppResp && !m.reject)
      t.mark(TraceStage.acked, 0, m.index, m.from);
    this.traceCommit();
  }

  private traceCommit(): void {
    const c = this.core.commitIndex();
    if (c > this.tracedCommit) {
      this.tracer!.mark(TraceStage.committed, this.tracedCommit + 1, c);
      this.tracedCommit = c;
    }
  }

  private traceRespSent(): void {
    this.tracer!.mark(TraceStage.respSent, 0, this.respQueuedUpTo);
  }

  private traceEntries(stage: TraceStage, entries: Entry[]): void {
    const n = entries.length;
    if (n > 0) this.tracer!.mark(stage, entries[0]!.index, entries[n - 1]!.index);
  }

  private scheduleReady(): void {
    if (this.readyScheduled || this.state !== 'running') return;
    this.readyScheduled = true;
    setImmediate(this.readyPass);
  }

  /** One function for every scheduled pass: no closure per event-loop turn. */
  private readonly readyPass = (): void => {
    this.readyScheduled = false;
    if (this.state === 'running') this.processReadies();
  };

  /**
   * One pass per event-loop turn. With applyDurableFirst, a pass that finds committed entries
   * already durable here only applies them (answers resolve when this callback returns) and
   * leaves the full Ready to the next turn: the answers do not wait for the next fsync, and the
   * proposals they trigger join that fsync's batch.
   */
  private processReadies(full = false): void {
    if (this.asyncLogWrites) {
      this.processReadiesAsync();
      return;
    }
    if (this.applyDurableFirst && !full && !this.fullPassNext && this.core.hasDurableCommitted()) {
      const rd = this.core.readyDurableCommitted();
      this.applyEntries(rd.committedEntries);
      this.core.advance(rd);
      this.afterAdvance();
      if (this.core.hasReady()) {
        this.fullPassNext = true;
        this.scheduleReady();
      }
      return;
    }
    this.fullPassNext = false;
    let holding = false;
    for (let i = 0; i < READIES_PER_TURN_MAX && this.core.hasReady(); i++) {
      // Also between two Readies of one pass: the first may have started a wait.
      holding = !full && this.holdForAcks();
      if (holding) break;
      const rd = this.core.ready();
      if (this.tracer) this.traceEntries(TraceStage.ready, rd.entries);
      this.handleReady(rd);
      this.core.advance(rd);
      if (this.tracer) this.traceCommit();
      this.afterAdvance();
      if (this.ackWaitMs > 0) this.startAckWait(rd);
    }
    // A staged snapshot the core did not ask to install was stale.
    this.staged = null;
    // While holding, an ack or the wait's timer schedules the next pass.
    if (!holding && this.core.hasReady()) this.scheduleReady();
  }

  /**
   * A leader's fsync blocks its event loop, so a follower's ack that arrives during the next
   * Ready's fsync is only stepped after it: the previous batch's answers wait one more fsync.
   * With leaderAckWaitMs, the next full Ready waits (loop free) until the previous batch is
   * committed or the wait runs out; proposals arriving meanwhile join it. Holding a Ready is
   * only a slower disk to the core: safety does not depend on it, liveness on the bound.
   */
  private holdForAcks(): boolean {
    if (this.ackWaitIndex === 0) return false;
    if (this.core.commitIndex() >= this.ackWaitIndex || !this.core.isLeader()) {
      this.ackWaitIndex = 0;
      return false;
    }
    const left = this.ackWaitUntilMs - this.env.nowMs();
    if (left <= 0) {
      this.ackWaitIndex = 0;
      return false;
    }
    // An ack (onMessage) schedules the next pass; the timer bounds the wait without one.
    if (!this.ackWaitTimer) {
      this.ackWaitTimer = setTimeout(() => {
        this.ackWaitTimer = null;
        this.scheduleReady();
      }, Math.ceil(left));
    }
    return true;
  }

  /** After a leader's full Ready with new entries: wait for their commit (holdForAcks). */
  private startAckWait(rd: Ready): void {
    const last = rd.entries[rd.entries.length - 1];
    if (!last || !this.core.isLeader() || this.core.commitIndex() >= last.index) return;
    this.ackWaitIndex = last.index;
    this.ackWaitUntilMs = this.env.nowMs() + this.ackWaitMs;
  }

  /**
   * Async log writes: committed entries already durable are applied at once, even while a write
   * is in flight (the core emits nothing past its durable index). Then, unless a write is in
   * flight, Readies are taken until one needs a write: it is posted (to the log's writer thread,
   * or committed here and fdatasynced on the thread pool) and finishes (finishReady) once it is
   * reported durable. Meanwhile this loop keeps
   * stepping messages, ticks and proposals; they go into the next Ready (the next batch).
   */
  private processReadiesAsync(): void {
    if (this.core.hasDurableCommitted()) {
      const rd = this.core.readyDurableCommitted();
      this.applyEntries(rd.committedEntries);
      this.core.advance(rd);
      this.afterAdvance();
    }
    for (let i = 0; i < READIES_PER_TURN_MAX && !this.writing && this.core.hasReady(); i++) {
      this.startReady(this.core.ready());
    }
    // A staged snapshot the core did not ask to install was stale.
    if (!this.writing) this.staged = null;
    if (!this.writing && this.core.hasReady()) this.scheduleReady();
  }

  /** Sends what may leave before the write, posts the write, or finishes at once without one. */
  private startReady(rd: Ready): void {
    if (this.tracer) this.traceEntries(TraceStage.ready, rd.entries);
    const early = this.earlySendAllowed(rd);
    if (early) this.sendMessages(rd.messages, 'replication');
    // Snapshot streams depend on nothing this Ready writes: started at the next advance.
    for (const send of rd.snapshotSends) this.sendsQueued.push(send);
    const install = rd.snapshot ? this.stageForInstall(rd.snapshot) : null;
    // Committed entries below this Ready's first new entry are durable already (every earlier
    // write finished): applied now, their answers do not wait for this write. A snapshot Ready
    // installs first, so its entries wait.
    let later = rd.committedEntries;
    if (!rd.snapshot) {
      const firstNew = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY;
      let n = 0;
      while (n < later.length && later[n]!.index < firstNew) n++;
      if (n > 0) {
        this.applyEntries(n === later.length ? later : later.slice(0, n));
        later = later.slice(n);
      }
    }
    const batch = { snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState };
    const posted = this.store.persistAsync(batch, (err) => {
      if (err) {
        // As with a failed synchronous persist: the process must restart from disk.
        throw new DrlError('internal', `raft log write failed: ${err.message}`, { cause: err });
      }
      this.writing = null;
      if (this.tracer) this.traceEntries(TraceStage.persisted, rd.entries);
      this.finishReady(rd, early, install, later);
      for (const w of this.writeWaiters.splice(0)) w();
      if (this.state === 'running') this.processReadiesAsync();
    });
    if (early && this.tracer) this.traceEntries(TraceStage.sent, rd.entries);
    if (early) this.transport.flush();
    if (posted) this.writing = rd;
    else this.finishReady(rd, early, install, later);
  }

  /** The Ready's write is durable (or there was none): send, install, apply, advance. */
  private finishReady(
    rd: Ready,
    early: boolean,
    install: ReceivedSnapshot | null,
    committed: Entry[],
  ): void {
    this.sendMessages(rd.messages, early ? 'rest' : 'all');
    this.transport.flush();
    if (rd.softState) this.onSoftState(rd.softState.leader, rd.softState.role);
    if (install) this.installSnapshot(install);
    this.applyEntries(committed);
    for (const rs of rd.readStates)
      this.pending.readIndexKnown(rs.requestId, rs.index, this.applied);
    this.core.advance(rd);
    if (this.tracer) this.traceCommit();
    this.afterAdvance();
  }

  /**
   * Persist, then send, then apply. One exception (Raft thesis 10.2.1, as etcd does): a
   * leader's App and Heartbeat messages depend on no state this Ready persists (its term and
   * vote are already durable, and the core counts the leader's own entries toward commit only
   * after advance() reports them durable), so they leave before the fsync and the followers'
   * fsyncs overlap the leader's.
   */
  private handleReady(rd: Ready): void {
    const early = this.earlySendAllowed(rd);
    if (early) {
      this.sendMessages(rd.messages, 'replication');
      // On the wire before the fsync below blocks this loop, not on the next turn after it.
      if (this.tracer) this.traceEntries(TraceStage.sent, rd.entries);
      this.transport.flush();
    }
    const install = rd.snapshot ? this.stageForInstall(rd.snapshot) : null;
    this.store.persist({ snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState });
    if (this.tracer) this.traceEntries(TraceStage.persisted, rd.entries);
    this.sendMessages(rd.messages, early ? 'rest' : 'all');
    // The follower's AppResp (and votes) leave now, not on the next turn: that turn first reads
    // whatever arrived during the fsync, and the leader is waiting for this answer to commit.
    this.transport.flush();
    for (const send of rd.snapshotSends) this.sendsQueued.push(send);
    if (rd.softState) this.onSoftState(rd.softState.leader, rd.softState.role);
    if (install) this.installSnapshot(install);
    this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates)
      this.pending.readIndexKnown(rs.requestId, rs.index, this.applied);
  }

  private earlySendAllowed(rd: Ready): boolean {
    if (!this.leaderSendsBeforePersist || rd.snapshot) return false;
    // store.hardState is what was posted; with no write in flight that is what is durable.
    if (this.writing)
      throw new Error('raft driver invariant: a Ready taken with a write in flight');
    if ((rd.softState?.role ?? this.role) !== 'leader') return false;
    const hs = rd.hardState;
    const durable = this.store.hardState;
    return !hs || (hs.term === durable.term && hs.vote === durable.vote);
  }

  /** Sends the leader's replication messages, all the others, or everything. */
  private sendMessages(messages: Message[], which: 'replication' | 'rest' | 'all'): void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const replication = m.type === MessageType.App || m.type === MessageType.Heartbeat;
      if (which !== 'all' && replication !== (which === 'replication')) continue;
      if (this.o.peerClock) m.clockMs = this.o.peerClock.readMs();
      if (
        this.tracer &&
        m.type === MessageType.AppResp &&
        !m.reject &&
        m.index > this.respQueuedUpTo
      )
        this.respQueuedUpTo = m.index;
      this.transport.send(m);
    }
  }

  private applyEntries(entries: Entry[]): void {
    if (entries.length === 0) return;
    const sm = this.o.stateMachine;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index <= this.applied) continue;
      if (e.index > this.core.commitIndex()) {
        throw new Error(`raft driver invariant: applying ${e.index} past commit`);
      }
      if (e.index !== this.applied + 1) {
        throw new Error(`raft driver invariant: applying ${e.index} after ${this.applied}`);
      }
      // A result nobody waits for (a follower's entries) need not be built.
      const result = sm.apply(e, this.pending.waits(e));
      this.applied = e.index;
      this.pending.applied(e, result);
      if (e.type === EntryType.ConfChange) this.onConfChange(e);
    }
    this.pending.appliedUpTo(this.applied);
    if (this.tracer) this.tracer.mark(TraceStage.applied, entries[0]!.index, this.applied);
  }

  /** A restart after the log recorded a snapshot the state machine had not restored yet. */
  private recoverStagedSnapshot(): void {
    const snap = this.store.snapshot;
    const sm = this.o.stateMachine;
    const smIndex = sm.appliedIndex?.() ?? 0;
    if (!snap || smIndex >= snap.index) {
      removeStagedSnapshot(this.o.dataDir);
      return;
    }
    if (!sm.restore) return;
    const staged = readStagedSnapshot(this.o.dataDir);
    if (!staged || staged.meta.index !== snap.index) {
      throw new DrlError(
        'storage_corrupt',
        `raft log starts after snapshot ${snap.index} but the state machine is at ${smIndex} and no staged snapshot matches`,
      );
    }
    this.o.logger.warn({ index: snap.index }, 'raft: completing an interrupted snapshot install');
    sm.restore(staged.meta, staged.data);
    removeStagedSnapshot(this.o.dataDir);
  }

  private onSnapshotChunk(m: Message): void {
    if (!m.snapshot || m.term < this.core.status().term) return;
    const { reply, complete } = this.receiver.onChunk(m);
    this.transport.send(reply);
    if (!complete) return;
    // Handed to the core in a later callback than the transport's flush of this reply: the
    // install that follows blocks this loop (seconds for a million keys), and the leader,
    // waiting for the answer to its final chunk, would count that as a stalled stream.
    setImmediate(() => {
      if (this.state !== 'running') return;
      this.staged = complete;
      this.core.step(
        newMessage(MessageType.Snap, m.from, this.id, m.term, {
          snapshot: {
            meta: complete.meta,
            offset: 0,
            data: new Uint8Array(0),
            done: true,
            checksum: 0,
          },
        }),
      );
      this.processReadies();
    });
  }

  /** Before the log store records the snapshot, its bytes are durable in the staged file. */
  private stageForInstall(meta: SnapshotMeta): ReceivedSnapshot {
    const staged = this.staged;
    if (!staged || staged.meta.index !== meta.index || staged.meta.term !== meta.term) {
      throw new Error(`raft driver invariant: install of snapshot ${meta.index} without its data`);
    }
    if (this.o.stateMachine.restore) stageReceivedSnapshot(this.o.dataDir);
    this.staged = null;
    return staged;
  }

  private installSnapshot(s: ReceivedSnapshot): void {
    const startMs = this.env.nowMs();
    const sm = this.o.stateMachine;
    if (!sm.restore)
      throw new Error('raft driver: a snapshot arrived but the state machine cannot restore');
    const staged = readStagedSnapshot(this.o.dataDir);
    if (!staged || staged.meta.index !== s.meta.index) {
      throw new Error(`raft driver invariant: snapshot ${s.meta.index} is not the staged one`);
    }
    sm.restore(s.meta, staged.data);
    removeStagedSnapshot(this.o.dataDir);
    this.applied = s.meta.index;
    this.pending.appliedUpTo(this.applied);
    const ms = Math.round(this.env.nowMs() - startMs);
    this.o.logger.info({ index: s.meta.index, bytes: s.length, ms }, 'raft: snapshot installed');
    this.emit('snapshot-installed', s.meta);
  }

  private afterAdvance(): void {
    const durable = this.o.stateMachine.durableIndex?.();
    if (durable !== undefined && durable > 0)
      this.compactor.onDurable(Math.min(durable, this.applied));
    if (this.sendsQueued.length === 0) return;
    const sends = this.sendsQueued;
    this.sendsQueued = [];
    for (const send of sends) this.startSnapshotSend(send.to);
  }

  /**
   * Streams the state machine's last durable snapshot (openSnapshot: produced between turns,
   * the leader keeps committing), or, for a state machine without one, its current bytes.
   */
  private startSnapshotSend(to: NodeId): void {
    const sm = this.o.stateMachine;
    if (this.sender.has(to)) return;
    if ((!sm.openSnapshot && !sm.snapshotData) || this.role !== 'leader') {
      this.core.reportSnapshot(to, false);
      return;
    }
    let source: SnapshotSource | null = sm.openSnapshot?.() ?? null;
    if (source === null) {
      if (!sm.snapshotData) {
        this.core.reportSnapshot(to, false);
        return;
      }
      this.core.snapshotTaken(this.applied);
      source = bytesSource(this.applied, sm.snapshotData());
    } else {
      // The core's snapshot meta (term, configuration) must be the source's index.
      this.compactor.onDurable(source.index);
    }
    const meta = this.core.snapshotMeta();
    if (!meta || meta.index !== source.index) {
      source.close();
      this.core.reportSnapshot(to, false);
      return;
    }
    this.o.logger.info({ to, index: meta.index }, 'raft: sending snapshot');
    this.sender.start(to, meta, this.core.status().term, source, this.env.nowMs());
  }

  private onSnapshotReport(to: NodeId, ok: boolean): void {
    if (!ok) this.o.logger.warn({ to }, 'raft: snapshot send failed');
    if (this.state !== 'running') return;
    this.core.reportSnapshot(to, ok);
    this.scheduleReady();
  }

  private onConfChange(e: Entry): void {
    const change = decodeConfChange(e.data);
    if (!change) return;
    if (change.type === 'remove' && change.id !== this.id) {
      this.transport.removePeer(change.id);
      this.sender.clear(change.id);
    }
    const address = replicatedRaftAddress(change);
    // --peers wins over the replicated address (contract: dial at the configured address first).
    if (address && change.type !== 'remove' && !(change.id in this.o.peers)) {
      this.transport.setPeer(change.id, address);
    }
    this.emit('conf-change', change);
  }

  private onSoftState(leader: NodeId | null, role: RaftStatus['role']): void {
    if (leader === this.leader && role === this.role) return;
    const wasLeader = this.role === 'leader';
    this.leader = leader;
    this.role = role;
    // A deposed leader's core forgets queued reads: fail them now rather than at the timeout.
    if (wasLeader && role !== 'leader') {
      this.pending.rejectUnansweredReads(() => new NotLeaderError(leader));
      this.sender.clear();
    }
    const term = this.store.hardState.term;
    this.o.logger.info({ leader, role, term }, 'raft: leader change');
    this.emit('leader', { leader, term, role } satisfies LeaderChange);
  }
}

/** The application stores `{"raft": "host:port", ...}` as JSON in a ConfChange's context. */
function replicatedRaftAddress(change: ConfChange): string | null {
  if (!change.context) return null;
  try {
    const ctx = JSON.parse(Buffer.from(change.context).toString('utf8')) as { raft?: unknown };
    return typeof ctx.raft === 'string' ? ctx.raft : null;
  } catch {
    return null;
  }
}
