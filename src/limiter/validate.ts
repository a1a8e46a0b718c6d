import { DrlError } from '../errors.js';
import {
  BURST_MAX,
  KEY_BYTES_MAX,
  LIMIT_MAX,
  REQUEST_ID_BYTES_MAX,
  RULE_NAME_BYTES_MAX,
  TOKEN_BUCKET_PRODUCT_MAX,
  WINDOW_MS_MAX,
} from './bounds.js';
import type { Algorithm, OverrideSpec, RuleSpec } from './types.js';

/**
 * Input validation. Every check throws a DrlError before any state is touched, so a rejected
 * command changes nothing on any replica. Checks are ordered cheapest first: the hot path
 * (a short, well-formed key) costs a length compare and one isWellFormed call.
 */

/**
 * Read once: under some loaders (tsx's) an imported binding is a getter call per access, and
 * validateKey runs on every allow.
 */
const KEY_MAX = KEY_BYTES_MAX;
const RULE_NAME_MAX = RULE_NAME_BYTES_MAX;
const REQUEST_ID_MAX = REQUEST_ID_BYTES_MAX;

const ALGORITHMS: ReadonlySet<string> = new Set(['sliding-log', 'sliding-counter', 'token-bucket']);

/** UTF-8 byte length of a well-formed string, counting until it passes `stopAfter`. */
export function utf8Length(text: string, stopAfter = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= stopAfter; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function checkText(
  value: unknown,
  maxBytes: number,
  code: 'invalid_key' | 'invalid_rule' | 'invalid_request_id',
  what: string,
): string {
  if (typeof value !== 'string') throw new DrlError(code, `${what} must be a string`);
  if (value.length === 0) throw new DrlError(code, `${what} must not be empty`);
  if (!isWellFormed(value)) {
    throw new DrlError(code, `${what} is not well-formed Unicode (lone surrogate)`);
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no byte count.
  if (value.length * 3 > maxBytes && utf8Length(value, maxBytes) > maxBytes) {
    throw new DrlError(code, `${what} must be at most ${maxBytes} bytes of UTF-8`);
  }
  return value;
}

export function validateKey(key: unknown): string {
  return checkText(key, KEY_MAX, 'invalid_key', 'key');
}

export function validateRuleName(name: unknown): string {
  return checkText(name, RULE_NAME_MAX, 'invalid_rule', 'rule name');
}

export function validateRequestId(id: unknown): string {
  return checkText(id, REQUEST_ID_MAX, 'invalid_request_id', 'requestId');
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function validateLimit(limit: unknown): number {
  if (!isIntegerIn(limit, 1, LIMIT_MAX)) {
    throw new DrlError('invalid_limit', `limit must be an integer in 1..${LIMIT_MAX}`);
  }
  return limit;
}

export function validateWindowMs(windowMs: unknown): number {
  if (!isIntegerIn(windowMs, 1, WINDOW_MS_MAX)) {
    throw new DrlError('invalid_window', `windowMs must be an integer in 1..${WINDOW_MS_MAX}`);
  }
  return windowMs;
}

export function validateCost(cost: unknown): number {
  if (!isIntegerIn(cost, 1, LIMIT_MAX)) {
    throw new DrlError('invalid_cost', `cost must be an integer in 1..${LIMIT_MAX}`);
  }
  return cost;
}

export function validateBurst(burst: unknown): number {
  if (!isIntegerIn(burst, 0, BURST_MAX)) {
    throw new DrlError('invalid_burst', `burst must be an integer in 0..${BURST_MAX}`);
  }
  return burst;
}

export function validateAlgorithm(algorithm: unknown): Algorithm {
  if (typeof algorithm !== 'string' || !ALGORITHMS.has(algorithm)) {
    throw new DrlError(
      'invalid_algorithm',
      'algorithm must be "sliding-log", "sliding-counter" or "token-bucket"',
    );
  }
  return algorithm as Algorithm;
}

export function validateTs(ts: unknown): number {
  if (!isIntegerIn(ts, 0, Number.MAX_SAFE_INTEGER)) {
    throw new DrlError('invalid_argument', 'ts must be a non-negative safe integer (ms)');
  }
  return ts;
}

/** token-bucket keeps its theoretical arrival time exact only within this product. */
export function checkTokenBucketProduct(limit: number, burst: number, windowMs: number): void {
  if ((limit + burst) * windowMs > TOKEN_BUCKET_PRODUCT_MAX) {
    throw new DrlError(
      'invalid_burst',
      `token-bucket needs (limit + burst) * windowMs <= 2^52 (got ${limit}+${burst} per ${windowMs} ms)`,
    );
  }
}

function checkObject(spec: unknown, what: string): Record<string, unknown> {
  if (typeof spec !== 'object' || spec === null) {
    throw new DrlError('invalid_argument', `${what} must be an object`);
  }
  return spec as Record<string, unknown>;
}

/** A normalised copy of a rule spec (algorithm and burst filled in). */
export function validateRuleSpec(spec: unknown): Required<RuleSpec> {
  const raw = checkObject(spec, 'rule spec');
  const limit = validateLimit(raw.limit);
  const windowMs = validateWindowMs(raw.windowMs);
  const algorithm = raw.algorithm === undefined ? 'sliding-log' : validateAlgorithm(raw.algorithm);
  const burst = raw.burst === undefined ? 0 : validateBurst(raw.burst);
  if (burst !== 0 && algorithm !== 'token-bucket') {
    throw new DrlError('invalid_burst', 'burst is only meaningful for algorithm "token-bucket"');
  }
  if (algorithm === 'token-bucket') checkTokenBucketProduct(limit, burst, windowMs);
  return { limit, windowMs, algorithm, burst };
}

export function validateOverrideSpec(spec: unknown): OverrideSpec {
  const raw = checkObject(spec, 'override spec');
  return { limit: validateLimit(raw.limit), windowMs: validateWindowMs(raw.windowMs) };
}

/** Inline limits come as a pair: both or neither. */
export function validateInlinePair(limit: unknown, windowMs: unknown): void {
  if (limit === undefined && windowMs === undefined) return;
  if (limit === undefined) {
    throw new DrlError('invalid_limit', 'an inline windowMs needs an inline limit too');
  }
  if (windowMs === undefined) {
    throw new DrlError('invalid_window', 'an inline limit needs an inline windowMs too');
  }
  validateLimit(limit);
  validateWindowMs(windowMs);
}
