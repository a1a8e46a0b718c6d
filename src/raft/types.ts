/**
 * Raft's vocabulary, shared by the pure core (src/raft/core), the driver, storage
 * (src/storage/raft-*) and the transport codec. Plain data only. Nothing here knows about
 * rate limiting: entry payloads are opaque bytes.
 */

export type NodeId = string;

export const enum EntryType {
  /** Opaque application command (possibly empty: a leader's no-op has empty data). */
  Normal = 0,
  /** A membership change; data is an encoded ConfChange (see src/raft/conf-change.ts). */
  ConfChange = 1,
}

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be durable before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  index: number;
  term: number;
  conf: ConfState;
}

export type ConfChangeType = 'addLearner' | 'promote' | 'remove';

export interface ConfChange {
  type: ConfChangeType;
  id: NodeId;
  /** Opaque to the core: the application stores addresses here (raft, http). */
  context?: Uint8Array;
}

export const enum MessageType {
  Vote = 0,
  VoteResp = 1,
  PreVote = 2,
  PreVoteResp = 3,
  App = 4,
  AppResp = 5,
  Heartbeat = 6,
  HeartbeatResp = 7,
  /** One chunk of a snapshot (offset, data, done) sent leader -> follower. */
  Snap = 8,
  SnapResp = 9,
  TimeoutNow = 10,
}

export interface SnapshotChunk {
  meta: SnapshotMeta;
  /** Byte offset of this chunk in the snapshot stream. */
  offset: number;
  data: Uint8Array;
  done: boolean;
  /** CRC32 of the whole stream; checked when done. */
  checksum: number;
}

/**
 * One Raft message. Fields follow etcd/raft's raftpb.Message; unused fields are 0/[]/false.
 * - App: index/logTerm = the entry preceding `entries`; commit = leader commit.
 * - AppResp: index = last index matched (or rejected index); reject + rejectHint (fast backtrack:
 *   hint index and logTerm = the follower's term at hint).
 * - Heartbeat/HeartbeatResp: context = the leader's heartbeat round, echoed back; the leader
 *   measures its lease from when it sent that round.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logTerm: number;
  index: number;
  commit: number;
  entries: Entry[];
  reject: boolean;
  rejectHint: number;
  context: number;
  snapshot: SnapshotChunk | null;
  /**
   * The sender's clock (ms since epoch) when the driver sent it; set and read only by drivers
   * (the core never looks). The leader's decision clock takes the median of the voters'.
   */
  clockMs?: number;
}

export type Role = 'follower' | 'candidate' | 'precandidate' | 'leader' | 'learner';

export interface SoftState {
  leader: NodeId | null;
  role: Role;
}

/** Answer to a linearizable read request: safe to serve once applied >= index. */
export interface ReadState {
  /** Caller's request id, echoed back. */
  requestId: number;
  index: number;
}

/**
 * What the core asks the driver to do, in this order:
 * 1. persist `snapshot` (if any), then `entries` (an entry at an index the log already holds
 *    replaces it and every entry after it), then `hardState` (if any), in one fsync;
 * 2. send `messages`, and start streaming the state machine snapshot for each `snapshotSends`;
 * 3. apply `committedEntries` (and install `snapshot` into the state machine first);
 * 4. call `advance(ready)`. Call `ready()` again only after `advance`.
 *
 * Between `ready()` and `advance()` the driver may go on stepping messages, ticks and
 * proposals (async storage writes: the write of a Ready is in flight while the loop runs);
 * what they produce goes into the next Ready. The entries of the Ready in flight count as
 * durable (toward the leader's own commit vote, and for applying) only after its advance().
 *
 * Persist-before-send (etcd's classic RawNode contract): EVERY message in a Ready may depend on
 * that Ready's persisted state (vote grants on hardState.vote/term, AppResp on entries), so the
 * driver must send none of them before step 1 completes. Messages generated after `ready()`
 * go into the next Ready. The leader counts its own log toward commit only up to what
 * `advance` reported durable. One exception a driver may take (thesis §10.2.1, as etcd does):
 * when the Ready's role is leader and its hardState leaves term and vote unchanged, the App
 * and Heartbeat messages may leave before the fsync (they promise nothing about this node's
 * disk); everything else (votes, AppResp, ...) still waits.
 */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  entries: Entry[];
  snapshot: SnapshotMeta | null;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  /**
   * Leader side: peers that need entries the log no longer has. The driver streams its
   * latest state machine snapshot (whose meta is given) to `to` as Snap chunks and then calls
   * `reportSnapshot(to, ok)`. Follower side: once all chunks arrived and the checksum is
   * good, the driver steps ONE Message {type: Snap, snapshot: {meta, done: true, ...}} into
   * its core; if the following Ready has `snapshot` set, it persists and installs it,
   * otherwise the staged snapshot is stale and is discarded.
   */
  snapshotSends: SnapshotSend[];
}

export interface SnapshotSend {
  to: NodeId;
  meta: SnapshotMeta;
}

/** Read-only view of what is durable, handed to the core at start (restart recovery). */
export interface LogView {
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  /** firstIndex = snapshot.index + 1 (or 1); entries are contiguous. */
  firstIndex(): number;
  lastIndex(): number;
  /** Term of entry i, for snapshot.index <= i <= lastIndex. */
  term(index: number): number;
  /** Entries in [lo, hi), at most maxBytes (always at least one). */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/** Deterministic randomness and time, supplied by the driver (or the simulator). */
export interface RaftEnv {
  /** A uniform integer in [0, n). Seeded in the simulator. */
  randomInt(n: number): number;
  /** Monotonic milliseconds (leases). Never decreases. */
  nowMs(): number;
}

export interface RaftConfig {
  id: NodeId;
  /** Initial group for bootstrap (ignored when the log or a snapshot carries a configuration). */
  peers: NodeId[];
  electionTicks: number;
  heartbeatTicks: number;
  /** Duration of one tick in ms, for lease arithmetic. */
  tickMs: number;
  /** Max clock-rate drift between any two nodes, e.g. 0.01 for 1 %. Shortens the lease. */
  clockDriftBound: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  maxEntriesBytesPerMsg: number;
  preVote: boolean;
  checkQuorum: boolean;
  /**
   * Test-only switches that each break one safety rule, so the simulator and jepsen-lite can
   * show they catch it. Empty in production. Names: 'commit-old-term-by-count' (commit an
   * entry of an older term by counting replicas), 'skip-leader-noop' (serve before committing
   * a no-op of the new term), 'lease-without-quorum' (claim a lease without a quorum's acks).
   */
  testBugs: ReadonlySet<string>;
  /** Index the state machine has applied at start (default: the snapshot's index). */
  applied?: number;
  /** Entries kept behind a snapshot on snapshotTaken, for slow followers (default 1024). */
  snapshotTailEntries?: number;
  /** Proposals are refused (unavailable) beyond this many uncommitted entries (default 65536). */
  maxUncommittedEntries?: number;
  /**
   * 'piggyback': a commit that no App with entries carries waits for the next App or heartbeat
   * (at most heartbeatTicks) instead of an empty App of its own. Followers then apply up to one
   * heartbeat later; under load the next batch's App carries it anyway, and the empty App per
   * follower per commit (a socket write and a wake-up on each side) is saved. Default 'eager'
   * (etcd's bcastAppend on commit).
   */
  commitBroadcast?: 'eager' | 'piggyback';
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  conf: ConfState;
}

/**
 * The pure core's surface (etcd/raft's RawNode shape). The driver and the simulator use only
 * this. Errors (not leader, transfer in progress) are thrown as DrlError('not_leader', ...).
 */
export interface RaftCore {
  tick(): void;
  step(message: Message): void;
  /** Appends a Normal entry; returns its index. */
  propose(data: Uint8Array): number;
  proposeConfChange(change: ConfChange): number;
  /** Linearizable read: a ReadState with this id appears in a later Ready. */
  readIndex(requestId: number): void;
  /** True while this node is leader and holds a lease (no other leader can exist). */
  hasLease(): boolean;
  transferLeader(to: NodeId): void;
  /** The state machine took a snapshot at `index`; the core may compact behind it. */
  snapshotTaken(index: number): void;
  /** The driver finished (ok) or gave up on streaming a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void;
  /** The latest snapshot the core knows of (from snapshotTaken, an install or the log view). */
  snapshotMeta(): SnapshotMeta | null;
  /**
   * Where the core's log now starts: the index it was compacted to (snapshotTaken keeps
   * snapshotTailEntries behind the snapshot), that entry's term and the configuration in force
   * there. null before any compaction. The driver compacts its store to the same point.
   */
  logStartMeta(): SnapshotMeta | null;
  hasReady(): boolean;
  ready(): Ready;
  /**
   * Whether committed entries that are already durable here (persisted by an earlier Ready)
   * wait to be applied. The driver may then take readyDurableCommitted() first: a Ready with
   * only those committed entries (nothing to persist or send), applied and advanced before the
   * fsync of the next full Ready, so their answers do not wait for it (etcd's async storage
   * idea in its simplest form). The commit index then reaches the hard state later than the
   * state machine: a restart raises it to config.applied. Allowed while a full Ready is
   * outstanding, provided the driver already applied that Ready's committed entries that were
   * durable when it took it (those below its first new entry); the others are never below
   * what this emits, since it emits nothing past the durable index.
   */
  hasDurableCommitted(): boolean;
  readyDurableCommitted(): Ready;
  advance(ready: Ready): void;
  status(): RaftStatus;
  /** Cheap reads for per-request paths: status() builds a fresh object each call. */
  isLeader(): boolean;
  leaderId(): NodeId | null;
  commitIndex(): number;
  lastIndex(): number;
  /** The current voters; the array is replaced, never mutated, on a change. */
  voters(): readonly NodeId[];
}
