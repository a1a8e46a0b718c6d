import { DrlError } from '../errors.js';
import type { Algorithm, OverrideSpec, RuleSpec } from '../limiter/types.js';
import type { Durability } from '../storage/sqlite-open.js';

export interface RateLimiterOptions {
  /** A SQLite file holding the state; without it the state lives in memory only. */
  path?: string;
  /** Rules set at open (replacing persisted rules of the same name). */
  rules?: Record<string, RuleSpec>;
  /**
   * With `path`: 'normal' (default) — a returned decision survives kill -9 of the process;
   * 'fsync' — it also survives a power cut (one fsync per state change).
   */
  durability?: Durability;
  /** With `path`: state changes between two incremental snapshots (default 10,000). */
  snapshotEveryCommands?: number;
}

export interface AllowOptions {
  /** Rule name; default "default". */
  rule?: string;
  /** Inline limit: give limit and windowMs together. */
  limit?: number;
  windowMs?: number;
  /** Default 1. */
  cost?: number;
}

/** `usage`: the key's window under a rule (default "default") or an inline limit. */
export type UsageOptions = Omit<AllowOptions, 'cost'>;

export interface ResolvedOptions {
  path: string | undefined;
  rules: Array<[string, RuleSpec]>;
  durability: Durability;
  snapshotEveryCommands: number;
}

const SNAPSHOT_EVERY_COMMANDS_DEFAULT = 10_000;
const SNAPSHOT_EVERY_COMMANDS_MAX = 10_000_000;

/** Checks the constructor's options (the engine checks the rules' contents). */
export function resolveOptions(options: RateLimiterOptions | undefined): ResolvedOptions {
  if (options !== undefined && !isObject(options as unknown))
    throw invalid('options must be an object');
  const { path, rules, durability, snapshotEveryCommands }: RateLimiterOptions = options ?? {};
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) {
    throw invalid('path must be a non-empty string');
  }
  if (durability !== undefined && durability !== 'normal' && durability !== 'fsync') {
    throw invalid(`durability must be 'normal' or 'fsync'`);
  }
  if (rules !== undefined && !isObject(rules as unknown)) throw invalid('rules must be an object');
  const every = snapshotEveryCommands ?? SNAPSHOT_EVERY_COMMANDS_DEFAULT;
  if (!Number.isSafeInteger(every) || every < 1 || every > SNAPSHOT_EVERY_COMMANDS_MAX) {
    throw invalid(`snapshotEveryCommands must be an integer in 1..${SNAPSHOT_EVERY_COMMANDS_MAX}`);
  }
  return {
    path,
    rules: Object.entries(rules ?? {}).map(([name, spec]) => [name, copyRuleSpec(spec)]),
    durability: durability ?? 'normal',
    snapshotEveryCommands: every,
  };
}

/** A fresh plain copy, so a caller mutating its object later cannot reach the engine's state. */
export function copyRuleSpec(spec: RuleSpec): RuleSpec {
  if (!isObject(spec as unknown))
    throw invalid('a rule must be an object {limit, windowMs, algorithm?, burst?}');
  const copy: RuleSpec = { limit: spec.limit, windowMs: spec.windowMs };
  if (spec.algorithm !== undefined) copy.algorithm = spec.algorithm as Algorithm;
  if (spec.burst !== undefined) copy.burst = spec.burst;
  return copy;
}

export function copyOverrideSpec(spec: OverrideSpec): OverrideSpec {
  if (!isObject(spec as unknown)) throw invalid('an override must be an object {limit, windowMs}');
  return { limit: spec.limit, windowMs: spec.windowMs };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): DrlError {
  return new DrlError('invalid_argument', message);
}
