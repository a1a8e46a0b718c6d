/**
 * The history vocabulary. One JSON object per line on disk (JSONL). Client times are
 * monotonic microseconds since the run started (process.hrtime.bigint based), all taken in
 * the one harness process so they are comparable across workers.
 */

/** invoke: sent; ok: answered 200; fail: definitely not applied (4xx); info: indeterminate. */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface AllowOp {
  rule: string;
  key: string;
  limit: number;
  windowMs: number;
  cost: number;
  requestId?: string;
}

/** The server's answer (contract: POST /allow 200 body), plus the node that answered. */
export interface AllowResult {
  allowed: boolean;
  remaining: number;
  /** Raft log index of the deciding entry; a lease-served denial reports its read index. */
  index: number;
  /** Decision time in server ms (leader-stamped). */
  ts: number;
  limit?: number;
  resetMs?: number;
  retryAfterMs?: number | null;
}

export interface OpEvent {
  kind: 'op';
  process: number;
  type: OpType;
  op: AllowOp;
  /** Present on ok. */
  result?: AllowResult;
  /** Present on fail/info: error code or transport error. */
  error?: string;
  /** Node the request was sent to. */
  node?: string;
  timeUs: number;
}

export interface NemesisEvent {
  kind: 'nemesis';
  phase: 'start' | 'stop';
  name: string;
  detail?: string;
  nodes?: string[];
  timeUs: number;
}

/**
 * A node's role as polled from GET /cluster (for the report timeline), or 'crashed': its
 * process exited without the runner stopping or killing it (detail: exit code or signal and its
 * last output line).
 */
export interface NodeEvent {
  kind: 'node';
  node: string;
  role: string;
  term?: number;
  detail?: string;
  timeUs: number;
}

export type HistoryLine = OpEvent | NemesisEvent | NodeEvent;

export type CallStatus = 'ok' | 'fail' | 'info';

/** An invocation paired with its completion. completeUs is Infinity for info ops. */
export interface Call {
  id: number;
  process: number;
  op: AllowOp;
  status: CallStatus;
  invokeUs: number;
  completeUs: number;
  result?: AllowResult;
  error?: string;
  node?: string;
}
