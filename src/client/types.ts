/** The client's vocabulary: the HTTP contract's shapes, with no server code behind them. */
import type { ClusterStatus, MemberInfo } from '../api/service.js';
import type { Algorithm, Decision, OverrideSpec, RuleSpec, Usage } from '../limiter/types.js';

export type { Algorithm, ClusterStatus, Decision, MemberInfo, OverrideSpec, RuleSpec, Usage };

export type OnUnavailable = 'throw' | 'failOpen' | 'failClosed';

export interface ClientLogger {
  warn(message: string): void;
}

export interface ClientOptions {
  /**
   * Node HTTP addresses: `host:port`, `http://host:port` or `https://host:port`, as an array or
   * comma-separated. When any is https, addresses learned from the group (the leader's) are too.
   */
  endpoints: string[] | string;
  token?: string;
  /** PEM CA(s) trusted for https endpoints (default: Node's bundled roots). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Bound on one call, retries and failover included. Default 3000. */
  timeoutMs?: number;
  /** What allow/check do when no node answers in time. Default 'throw'. */
  onUnavailable?: OnUnavailable;
  /** Where the once-per-interval degraded-mode warning goes. Default console. */
  logger?: ClientLogger;
  /** Interval between degraded-mode warnings. Default 10000. */
  degradedLogIntervalMs?: number;
}

export interface AllowOptions {
  rule?: string;
  limit?: number;
  windowMs?: number;
  cost?: number;
  /** Default: a fresh UUID per call, reused by that call's retries so it is counted once. */
  requestId?: string;
}

export interface ClientDecision extends Decision {
  /** Raft log index of the deciding entry; null for a degraded (local) answer. */
  index: number | null;
  /** Leader's decision time (ms since epoch); a degraded answer has the local time. */
  ts: number | null;
  /** Present and true only when the answer was made locally by failOpen/failClosed. */
  degraded?: true;
}

export interface MutationResult {
  ok: boolean;
  index: number;
}
