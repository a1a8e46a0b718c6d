/**
 * What the HTTP layer needs from a node. The lead implements it with Raft + the limiter
 * engine; tests use an in-memory double. The API never sees Raft or SQLite: it validates,
 * calls one method, renders the answer, and forwards to the leader on NotLeaderError.
 *
 * Errors: every deliberate failure is a DrlError (its code and status are rendered as-is).
 * Throw NotLeaderError from any leader-only method when this node is not the leader; throw
 * DrlError('unavailable') when no quorum answered in time (the API also bounds each call by
 * its request timeout and answers 503 itself).
 */
import { DrlError } from '../errors.js';
import type { Decision, OverrideSpec, RuleSpec, Usage } from '../limiter/types.js';

export interface AllowRequest {
  key: string;
  /** Default 'default'. */
  rule?: string;
  /** Inline limit: both limit and windowMs, or neither (the API enforces it). */
  limit?: number;
  windowMs?: number;
  /** Default 1. */
  cost?: number;
  requestId?: string;
}

export interface AllowResponse extends Decision {
  /** Raft log index of the deciding entry (a lease-served denial: the applied index read at). */
  index: number;
  /** Decision time stamped by the leader (ms since epoch). */
  ts: number;
  /** Window in force, for the RateLimit-Policy `w` parameter; omitted from the header if absent. */
  windowMs?: number;
  /** True when a lease-served denial answered without a log entry (counted in metrics). */
  leaseServed?: boolean;
}

/** Every mutation is replicated through the log; index is the entry that applied it. */
export interface MutationResult {
  index: number;
}

export type Role = 'leader' | 'follower' | 'candidate' | 'learner';

export interface MemberInfo {
  id: string;
  /** Raft address host:port. */
  raft: string;
  /** HTTP address host:port (what followers forward to and clients discover). */
  http?: string;
}

export interface ClusterStatus {
  id: string;
  role: Role;
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  members: MemberInfo[];
}

/** An inline limit, as POST /allow takes it (`limit` and `windowMs` together). */
export interface InlineLimit {
  limit: number;
  windowMs: number;
}

export interface RateLimitService {
  /**
   * A decision known at once (a lease-served denial) may be returned as is rather than as a
   * promise: the API then answers without a promise or a timeout timer. May throw at once.
   */
  allow(req: AllowRequest): AllowResponse | Promise<AllowResponse>;
  /**
   * Read-only view of a (rule, key); records nothing. With `inline`, under that inline limit
   * (as an allow with `limit` and `windowMs` would see it).
   */
  usage(rule: string, key: string, inline?: InlineLimit): Promise<Usage>;
  listRules(): Promise<Record<string, RuleSpec>>;
  setRule(name: string, spec: RuleSpec): Promise<MutationResult>;
  /** Throws DrlError('not_found') when no such rule exists. */
  deleteRule(name: string): Promise<MutationResult>;
  setOverride(rule: string, key: string, spec: OverrideSpec): Promise<MutationResult>;
  /** Throws DrlError('not_found') when no such override exists. */
  deleteOverride(rule: string, key: string): Promise<MutationResult>;
  /** This node's own view; answered locally, never forwarded. */
  cluster(): ClusterStatus;
  addMember(member: MemberInfo): Promise<MutationResult>;
  removeMember(id: string): Promise<MutationResult>;
  /** Resolves when `to` is leader (or rejects with unavailable after the timeout). */
  transferLeader(to: string): Promise<void>;
  /** True once the node can serve decisions (log replayed, leader known). */
  ready(): boolean;
}

/**
 * This node is not the leader. `leaderHttp` (host:port or http://host:port) lets the API
 * forward the request; when null (no known leader) the API answers 503 unavailable.
 */
export class NotLeaderError extends DrlError {
  readonly leaderId: string | null;
  readonly leaderHttp: string | null;

  constructor(leaderId: string | null, leaderHttp: string | null) {
    super('not_leader', leaderId ? `not the leader; leader is ${leaderId}` : 'no known leader');
    this.name = 'NotLeaderError';
    this.leaderId = leaderId;
    this.leaderHttp = leaderHttp;
  }
}

export function isNotLeaderError(value: unknown): value is NotLeaderError {
  return value instanceof NotLeaderError;
}
