/**
 * The limiter state machine's vocabulary. Pure data: every command carries its own timestamp
 * (integer ms since epoch, stamped by the leader or the embedded clock); the engine never reads
 * a clock. The same commands in the same order give the same state and decisions everywhere.
 */

export type Algorithm = 'sliding-log' | 'sliding-counter' | 'token-bucket';

export interface RuleSpec {
  limit: number;
  windowMs: number;
  /** Default 'sliding-log'. */
  algorithm?: Algorithm;
  /** token-bucket only: extra requests allowed at once above the steady rate. Default 0. */
  burst?: number;
}

export interface OverrideSpec {
  limit: number;
  windowMs: number;
}

/** The decision returned to callers (contract: Library `Decision`, HTTP body minus index/ts). */
export interface Decision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** ms from ts until the window holds nothing. */
  resetMs: number;
  /** 0 when allowed; when denied, ms until this cost would fit (1..windowMs), or null if cost > limit. */
  retryAfterMs: number | null;
}

/** Read-only view of a (rule, key): `GET /keys/:rule/:key`. Records nothing. */
export interface Usage {
  used: number;
  limit: number;
  remaining: number;
  resetMs: number;
}

export interface AllowCommand {
  type: 'allow';
  ts: number;
  key: string;
  /** Default 'default'. */
  rule?: string;
  /** Default 1. */
  cost?: number;
  /** Inline limit: both limit and windowMs, or neither. */
  limit?: number;
  windowMs?: number;
  /** Exactly-once: a retry with the same id returns the first decision, counted once. */
  requestId?: string;
}

export interface SetRuleCommand {
  type: 'setRule';
  ts: number;
  name: string;
  spec: RuleSpec;
}

export interface DeleteRuleCommand {
  type: 'deleteRule';
  ts: number;
  name: string;
}

export interface SetOverrideCommand {
  type: 'setOverride';
  ts: number;
  rule: string;
  key: string;
  spec: OverrideSpec;
}

export interface DeleteOverrideCommand {
  type: 'deleteOverride';
  ts: number;
  rule: string;
  key: string;
}

/** A command with no effect but advancing time (the leader's no-op carries ts this way). */
export interface TickCommand {
  type: 'tick';
  ts: number;
}

export type Command =
  | AllowCommand
  | SetRuleCommand
  | DeleteRuleCommand
  | SetOverrideCommand
  | DeleteOverrideCommand
  | TickCommand;

/**
 * What applying a command produced. A command that fails validation (or a requestId reused
 * with another body) throws a DrlError instead, deterministically on every replica, and
 * changes no state.
 */
export type ApplyResult =
  | { type: 'decision'; decision: Decision; duplicate: false }
  /** Answered from the requestId table: the first decision, its ts and (if given) log index. */
  | {
      type: 'decision';
      decision: Decision;
      duplicate: true;
      firstTs: number;
      firstLogIndex: number | undefined;
    }
  | { type: 'ok' };

/**
 * One unit of persistent state, as snapshots carry it. Keys of the snapshot store:
 * meta: name; rule: name; override: (rule, key); window: (rule, key); request: id.
 */
export type StateRecord =
  | { kind: 'meta'; name: string; value: number }
  | { kind: 'rule'; name: string; spec: RuleSpec }
  | { kind: 'override'; rule: string; key: string; spec: OverrideSpec }
  /** Algorithm-specific window state, encoded by the engine (opaque to storage). */
  | { kind: 'window'; rule: string; key: string; data: Uint8Array }
  /** A remembered requestId: fingerprint of the body, the decision, and the ts it was decided. */
  | {
      kind: 'request';
      id: string;
      fingerprint: string;
      ts: number;
      decision: Decision;
      /** Order of arrival (the count bound drops the lowest first); added by the engine. */
      seq?: number;
      /** The caller's position of the deciding command (a replicated node's log index). */
      logIndex?: number;
    };

/** Identity of a record for deletes in an incremental snapshot. */
export type StateRecordId =
  | { kind: 'meta'; name: string }
  | { kind: 'rule'; name: string }
  | { kind: 'override'; rule: string; key: string }
  | { kind: 'window'; rule: string; key: string }
  | { kind: 'request'; id: string };

/**
 * Where the engine writes a snapshot. Storage implements it (SQLite in src/storage); the
 * engine never sees a database. A full snapshot replaces everything; an incremental one
 * upserts and deletes only what changed since the previous snapshot written to this sink.
 */
export interface SnapshotWriter {
  begin(appliedIndex: number, mode: 'full' | 'incremental'): void;
  put(record: StateRecord): void;
  delete(id: StateRecordId): void;
  commit(): void;
}

/** One write of a snapshot held for later: a record to put, or one to delete. */
export type SnapshotOp =
  | { put: StateRecord; del?: undefined }
  | { put?: undefined; del: StateRecordId };

/**
 * An incremental snapshot captured copy-on-write (Limiter.captureSnapshot): its records are
 * put into a writer a few at a time while the engine goes on applying; the caller begins and
 * commits the writer's transaction. Ends when fully written or released.
 */
export interface DeferredSnapshotSource {
  readonly index: number;
  /** Records to write at most. */
  readonly records: number;
  /** Writes up to `recordsMax` more records; true once all are written (then it has ended). */
  writeSome(writer: SnapshotWriter, recordsMax: number): boolean;
  /** Ends the snapshot unwritten (idempotent): the engine stops copying for it. */
  release(): void;
}

/** The engine's public surface, used by src/embedded and by the replicated state machine. */
export interface LimiterStateMachine {
  /** Validates, then applies. Throws DrlError on bad input (nothing changed). */
  apply(command: Command): ApplyResult;
  /** The decision `allow` would return now, recording nothing and evicting nothing. */
  evaluate(command: AllowCommand): Decision;
  /** `limit` and `windowMs` together: under that inline limit, as an allow would take it. */
  usage(rule: string, key: string, ts: number, limit?: number, windowMs?: number): Usage;
  /** Highest command ts applied so far (ts never decreases; asserted). */
  readonly lastTs: number;
  /** Number of (rule, key) windows held in memory. */
  readonly keyCount: number;
  writeSnapshot(writer: SnapshotWriter, appliedIndex: number, mode: 'full' | 'incremental'): void;
  /** Replaces all state by the records (a full snapshot's content). */
  restore(records: Iterable<StateRecord>): void;
}
