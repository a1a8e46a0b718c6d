import type Database from 'better-sqlite3';
import type { Algorithm, RuleSpec, StateRecord } from '../limiter/types.js';

// Row shapes as SQLite returns them, and their decoding back into the engine's records.
// Optional spec fields are stored as NULL and restored as absent, so a record round-trips equal.

export interface MetaRow {
  name: string;
  value: number;
}
export interface RuleRow {
  name: string;
  lim: number;
  window_ms: number;
  algorithm: string | null;
  burst: number | null;
}
export interface OverrideRow {
  rule: string;
  key: string;
  lim: number;
  window_ms: number;
}
export interface WindowRow {
  rule: string;
  key: string;
  data: Buffer;
}
export interface RequestRow {
  id: string;
  fingerprint: string;
  ts: number;
  allowed: number;
  lim: number;
  remaining: number;
  reset_ms: number;
  retry_after_ms: number | null;
  seq: number | null;
  log_index: number | null;
}

export function* mapRows<Row>(
  statement: Database.Statement,
  decode: (row: Row) => StateRecord,
): Generator<StateRecord> {
  for (const row of statement.iterate() as IterableIterator<Row>) yield decode(row);
}

export function metaRecord(row: MetaRow): StateRecord {
  return { kind: 'meta', name: row.name, value: row.value };
}

export function ruleRecord(row: RuleRow): StateRecord {
  const spec: RuleSpec = { limit: row.lim, windowMs: row.window_ms };
  if (row.algorithm !== null) spec.algorithm = row.algorithm as Algorithm;
  if (row.burst !== null) spec.burst = row.burst;
  return { kind: 'rule', name: row.name, spec };
}

export function overrideRecord(row: OverrideRow): StateRecord {
  return {
    kind: 'override',
    rule: row.rule,
    key: row.key,
    spec: { limit: row.lim, windowMs: row.window_ms },
  };
}

export function windowRecord(row: WindowRow): StateRecord {
  return { kind: 'window', rule: row.rule, key: row.key, data: row.data };
}

export function requestRecord(row: RequestRow): StateRecord {
  const record: StateRecord = {
    kind: 'request',
    id: row.id,
    fingerprint: row.fingerprint,
    ts: row.ts,
    decision: {
      allowed: row.allowed === 1,
      limit: row.lim,
      remaining: row.remaining,
      resetMs: row.reset_ms,
      retryAfterMs: row.retry_after_ms,
    },
  };
  if (row.seq !== null) record.seq = row.seq;
  if (row.log_index !== null) record.logIndex = row.log_index;
  return record;
}
