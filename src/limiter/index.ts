/**
 * The limiter engine: a pure, deterministic state machine (no clock, timer or I/O).
 *
 * - `createLimiter(options?)` returns a `Limiter` (implements `LimiterStateMachine`).
 * - Fast path for the embedded RateLimiter: `limiter.allow(ts, key, rule?, cost?, limit?,
 *   windowMs?, requestId?)` validates and applies exactly like `apply({type:'allow', ...})`
 *   without building a command object. Every Decision it (or apply/evaluate) returns is a fresh
 *   object the engine never keeps or reuses, so it can go to users as is.
 *   `limiter.lastDuplicate` tells whether the last allow was answered from the requestId table.
 * - Snapshots: `writeSnapshot(writer, index, 'full' | 'incremental')`, `records()` (what a full
 *   snapshot holds), `restore(records)`, and the byte codec `encodeSnapshot` / `decodeSnapshot`.
 * - Validation helpers throw DrlError with the codes in src/errors.ts; bounds in `bounds.ts`.
 */
export * from './bounds.js';
export { createLimiter, type Limiter, type LimiterOptions } from './engine.js';
export { decodeSnapshot, encodeSnapshot, FRAME_BYTES_MAX } from './snapshot-codec.js';
export type * from './types.js';
export {
  utf8Length,
  validateAlgorithm,
  validateBurst,
  validateCost,
  validateInlinePair,
  validateKey,
  validateLimit,
  validateOverrideSpec,
  validateRequestId,
  validateRuleName,
  validateRuleSpec,
  validateTs,
  validateWindowMs,
} from './validate.js';
