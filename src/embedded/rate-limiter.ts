import { DrlError } from '../errors.js';
import { createLimiter, type Limiter } from '../limiter/index.js';
import type { Command, Decision, OverrideSpec, RuleSpec, Usage } from '../limiter/types.js';
import { DurableState } from './durable-state.js';
import { MonotonicClock } from './monotonic-clock.js';
import {
  type AllowOptions,
  copyOverrideSpec,
  copyRuleSpec,
  isObject,
  type RateLimiterOptions,
  resolveOptions,
  type UsageOptions,
} from './options.js';

/**
 * The limiter in-process: the same engine the cluster replicates, fed by a local monotonic
 * clock. Every method is synchronous, so each call is atomic with respect to everything else in
 * this process (async callers included). With `path`, every state change is written to the
 * journal before the call returns (DurableState); a denial changes no state and writes nothing.
 * If that write fails the call throws and the grant stays counted in memory (over-counting,
 * never under-counting).
 */
export class RateLimiter {
  private readonly engine: Limiter;
  private readonly durable: DurableState | undefined;
  private readonly clock: MonotonicClock;
  private closed = false;

  constructor(options?: RateLimiterOptions) {
    const resolved = resolveOptions(options);
    this.engine = createLimiter();
    this.durable =
      resolved.path === undefined
        ? undefined
        : new DurableState(this.engine, {
            path: resolved.path,
            durability: resolved.durability,
            snapshotEveryCommands: resolved.snapshotEveryCommands,
          });
    this.clock = new MonotonicClock(this.engine.lastTs);
    try {
      for (const [name, spec] of resolved.rules) {
        this.applyAndRecord({ type: 'setRule', ts: this.clock.now(), name, spec });
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Decides and records one request; true when granted. */
  allow(key: string, opts?: AllowOptions): boolean {
    return this.decide(key, opts).allowed;
  }

  /** Decides and records exactly like `allow`, returning the whole decision. */
  check(key: string, opts?: AllowOptions): Decision {
    // The engine hands out a fresh Decision per call and never keeps it.
    return this.decide(key, opts);
  }

  /**
   * What the key has used in its window now (as GET /keys/:rule/:key): records nothing,
   * writes nothing. `opts.limit` with `opts.windowMs`: under that inline limit.
   */
  usage(key: string, opts?: UsageOptions): Usage {
    this.assertOpen();
    if (opts !== undefined && !isObject(opts as unknown)) {
      throw new DrlError('invalid_argument', 'options must be an object');
    }
    const { rule = 'default', limit, windowMs } = opts ?? {};
    return this.engine.usage(rule, key, this.clock.now(), limit, windowMs);
  }

  setRule(name: string, spec: RuleSpec): void {
    this.assertOpen();
    this.applyAndRecord({ type: 'setRule', ts: this.clock.now(), name, spec: copyRuleSpec(spec) });
  }

  deleteRule(name: string): void {
    this.assertOpen();
    this.applyAndRecord({ type: 'deleteRule', ts: this.clock.now(), name });
  }

  setOverride(rule: string, key: string, spec: OverrideSpec): void {
    this.assertOpen();
    const command: Command = {
      type: 'setOverride',
      ts: this.clock.now(),
      rule,
      key,
      spec: copyOverrideSpec(spec),
    };
    this.applyAndRecord(command);
  }

  deleteOverride(rule: string, key: string): void {
    this.assertOpen();
    this.applyAndRecord({ type: 'deleteOverride', ts: this.clock.now(), rule, key });
  }

  /** Writes a last snapshot and releases the file; later calls throw `closed`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.durable?.close();
  }

  private decide(key: string, opts: AllowOptions | undefined): Decision {
    if (this.closed) throw closedError();
    const ts = this.clock.now();
    let decision: Decision;
    if (opts === undefined) {
      // The engine's fast path: no command object; the Decision is fresh and never reused.
      decision = this.engine.allow(ts, key);
      if (decision.allowed && this.durable !== undefined) {
        this.durable.recordAllow(ts, key, undefined, undefined, undefined, undefined);
      }
      return decision;
    }
    if (!isObject(opts as unknown)) {
      throw new DrlError('invalid_argument', 'options must be an object');
    }
    const { rule, cost, limit, windowMs } = opts;
    decision = this.engine.allow(ts, key, rule, cost, limit, windowMs);
    // Only a grant changes state; a denial needs no write to be reproduced after a restart.
    if (decision.allowed && this.durable !== undefined) {
      this.durable.recordAllow(ts, key, rule, cost, limit, windowMs);
    }
    return decision;
  }

  private applyAndRecord(command: Command): void {
    this.engine.apply(command);
    this.durable?.record(command);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): DrlError {
  return new DrlError('closed', 'this RateLimiter is closed');
}
