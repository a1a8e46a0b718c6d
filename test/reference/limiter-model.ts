/**
 * A naive reference model of the limiter (imports nothing from src/limiter): plain arrays and
 * objects, no eviction, brute-force scans, exact rational GCRA. The property tests drive it and
 * the engine with the same commands and require identical answers.
 */

export type ModelAlgorithm = 'sliding-log' | 'sliding-counter' | 'token-bucket';

export interface ModelDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetMs: number;
  retryAfterMs: number | null;
}

export interface ModelRule {
  limit: number;
  windowMs: number;
  algorithm: ModelAlgorithm;
  burst: number;
}

/** The model's error: only the code is compared. */
export class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface LogEntry {
  ts: number;
  cost: number;
  expiresAt: number;
}

interface CounterState {
  windowMs: number;
  start: number;
  prev: number;
  curr: number;
}

/** Exact rational TAT = num / den ms. */
interface BucketState {
  num: bigint;
  den: bigint;
  limit: number;
  windowMs: number;
  burst: number;
}

type WindowState = LogEntry[] | CounterState | BucketState;

interface RequestMemo {
  body: string;
  ts: number;
  decision: ModelDecision;
}

export interface ModelOptions {
  requestRetentionMs: number;
  requestsMax: number;
}

const LIMIT_MAX = 1_000_000_000;
const WINDOW_MAX = 31 * 24 * 3600 * 1000;

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function checkText(value: unknown, max: number, code: string): void {
  if (
    typeof value !== 'string' ||
    value === '' ||
    hasLoneSurrogate(value) ||
    utf8Bytes(value) > max
  ) {
    throw new ModelError(code);
  }
}

function isInt(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  // b > 0
  return a >= 0n ? (a + b - 1n) / b : -(-a / b);
}

export class LimiterModel {
  rules = new Map<string, ModelRule>();
  overrides = new Map<string, Map<string, { limit: number; windowMs: number }>>();
  /** rule name -> algorithm of its windows, and rule -> key -> window state. */
  windowAlgorithm = new Map<string, ModelAlgorithm>();
  windows = new Map<string, Map<string, WindowState>>();
  requests = new Map<string, RequestMemo>();
  lastTs = 0;

  constructor(readonly options: ModelOptions) {}

  private checkTs(ts: number): void {
    if (!isInt(ts, 0, Number.MAX_SAFE_INTEGER)) throw new ModelError('invalid_argument');
    if (ts < this.lastTs) throw new ModelError('internal');
  }

  setRule(ts: number, name: string, spec: Partial<ModelRule>): void {
    this.checkTs(ts);
    checkText(name, 128, 'invalid_rule');
    if (!isInt(spec.limit, 1, LIMIT_MAX)) throw new ModelError('invalid_limit');
    if (!isInt(spec.windowMs, 1, WINDOW_MAX)) throw new ModelError('invalid_window');
    const algorithm = spec.algorithm ?? 'sliding-log';
    if (!['sliding-log', 'sliding-counter', 'token-bucket'].includes(algorithm)) {
      throw new ModelError('invalid_algorithm');
    }
    const burst = spec.burst ?? 0;
    if (!isInt(burst, 0, LIMIT_MAX)) throw new ModelError('invalid_burst');
    if (burst !== 0 && algorithm !== 'token-bucket') throw new ModelError('invalid_burst');
    const rule: ModelRule = { limit: spec.limit!, windowMs: spec.windowMs!, algorithm, burst };
    if (algorithm === 'token-bucket') {
      if ((rule.limit + burst) * rule.windowMs > 2 ** 52) throw new ModelError('invalid_burst');
      for (const o of this.overrides.get(name)?.values() ?? []) {
        if ((o.limit + burst) * o.windowMs > 2 ** 52) throw new ModelError('invalid_burst');
      }
    }
    const had = this.windowAlgorithm.get(name);
    if (had !== undefined && had !== algorithm) this.windows.delete(name);
    this.windowAlgorithm.set(name, algorithm);
    this.rules.set(name, rule);
    this.lastTs = ts;
  }

  deleteRule(ts: number, name: string): void {
    this.checkTs(ts);
    checkText(name, 128, 'invalid_rule');
    if (!this.rules.has(name)) throw new ModelError('unknown_rule');
    this.rules.delete(name);
    this.overrides.delete(name);
    this.windows.delete(name);
    this.windowAlgorithm.delete(name);
    this.lastTs = ts;
  }

  setOverride(
    ts: number,
    rule: string,
    key: string,
    spec: { limit: number; windowMs: number },
  ): void {
    this.checkTs(ts);
    checkText(rule, 128, 'invalid_rule');
    checkText(key, 512, 'invalid_key');
    if (!isInt(spec.limit, 1, LIMIT_MAX)) throw new ModelError('invalid_limit');
    if (!isInt(spec.windowMs, 1, WINDOW_MAX)) throw new ModelError('invalid_window');
    const r = this.rules.get(rule);
    if (r === undefined) throw new ModelError('unknown_rule');
    if (r.algorithm === 'token-bucket' && (spec.limit + r.burst) * spec.windowMs > 2 ** 52) {
      throw new ModelError('invalid_burst');
    }
    if (!this.overrides.has(rule)) this.overrides.set(rule, new Map());
    this.overrides.get(rule)!.set(key, { limit: spec.limit, windowMs: spec.windowMs });
    this.lastTs = ts;
  }

  deleteOverride(ts: number, rule: string, key: string): void {
    this.checkTs(ts);
    checkText(rule, 128, 'invalid_rule');
    checkText(key, 512, 'invalid_key');
    if (!this.rules.has(rule)) throw new ModelError('unknown_rule');
    this.overrides.get(rule)?.delete(key);
    this.lastTs = ts;
  }

  tick(ts: number): void {
    this.checkTs(ts);
    this.lastTs = ts;
  }

  /** Returns [decision, duplicate]. */
  allow(
    ts: number,
    key: string,
    ruleName = 'default',
    cost = 1,
    limit?: number,
    windowMs?: number,
    requestId?: string,
    record = true,
  ): [ModelDecision, boolean] {
    if (record) this.checkTs(ts);
    checkText(key, 512, 'invalid_key');
    if (!isInt(cost, 1, LIMIT_MAX)) throw new ModelError('invalid_cost');
    const rule = this.rules.get(ruleName);
    if (!this.rules.has(ruleName) && !this.windowAlgorithm.has(ruleName)) {
      checkText(ruleName, 128, 'invalid_rule');
    }
    let effLimit: number;
    let effWindow: number;
    if (limit !== undefined || windowMs !== undefined) {
      if (limit === undefined) throw new ModelError('invalid_limit');
      if (windowMs === undefined) throw new ModelError('invalid_window');
      if (!isInt(limit, 1, LIMIT_MAX)) throw new ModelError('invalid_limit');
      if (!isInt(windowMs, 1, WINDOW_MAX)) throw new ModelError('invalid_window');
      if (rule?.algorithm === 'token-bucket' && (limit + rule.burst) * windowMs > 2 ** 52) {
        throw new ModelError('invalid_burst');
      }
      effLimit = limit;
      effWindow = windowMs;
    } else {
      if (rule === undefined) throw new ModelError('unknown_rule');
      const o = this.overrides.get(ruleName)?.get(key);
      effLimit = o?.limit ?? rule.limit;
      effWindow = o?.windowMs ?? rule.windowMs;
    }
    const body = JSON.stringify([ruleName, key, cost, limit ?? null, windowMs ?? null]);
    if (requestId !== undefined) {
      checkText(requestId, 128, 'invalid_request_id');
      const memo = this.requests.get(requestId);
      if (memo !== undefined && memo.ts + this.options.requestRetentionMs > ts) {
        if (record && memo.body !== body) throw new ModelError('request_id_conflict');
        if (record) this.lastTs = ts;
        return [{ ...memo.decision }, true];
      }
    }
    const algorithm = rule?.algorithm ?? this.windowAlgorithm.get(ruleName) ?? 'sliding-log';
    const burst = rule?.burst ?? 0;
    const keys = this.windows.get(ruleName) ?? new Map<string, WindowState>();
    const state = keys.get(key);
    let decision: ModelDecision;
    let next: WindowState | undefined;
    if (algorithm === 'sliding-log') {
      [decision, next] = logDecide((state as LogEntry[]) ?? [], ts, cost, effLimit, effWindow);
    } else if (algorithm === 'sliding-counter') {
      [decision, next] = counterDecide(
        state as CounterState | undefined,
        ts,
        cost,
        effLimit,
        effWindow,
      );
    } else {
      [decision, next] = bucketDecide(
        state as BucketState | undefined,
        ts,
        cost,
        effLimit,
        effWindow,
        burst,
      );
    }
    if (!record) return [decision, false];
    if (decision.allowed && next !== undefined) {
      keys.set(key, next);
      this.windows.set(ruleName, keys);
      if (!this.windowAlgorithm.has(ruleName)) this.windowAlgorithm.set(ruleName, algorithm);
    }
    if (requestId !== undefined) {
      this.requests.delete(requestId);
      this.requests.set(requestId, { body, ts, decision: { ...decision } });
      while (this.requests.size > this.options.requestsMax) {
        this.requests.delete(this.requests.keys().next().value!);
      }
    }
    this.lastTs = ts;
    return [decision, false];
  }

  usage(
    ruleName: string,
    key: string,
    ts: number,
    inlineLimit?: number,
    inlineWindowMs?: number,
  ): { used: number; limit: number; remaining: number; resetMs: number } {
    const at = Math.max(ts, this.lastTs);
    const rule = this.rules.get(ruleName);
    checkText(key, 512, 'invalid_key');
    const inline = inlineLimit !== undefined && inlineWindowMs !== undefined;
    if (rule === undefined && !inline) throw new ModelError('unknown_rule');
    const o = inline ? undefined : this.overrides.get(ruleName)?.get(key);
    const limit = inline ? inlineLimit : (o?.limit ?? rule!.limit);
    const windowMs = inline ? inlineWindowMs : (o?.windowMs ?? rule!.windowMs);
    const state = this.windows.get(ruleName)?.get(key);
    if (rule === undefined || rule.algorithm === 'sliding-log') {
      const counted = ((state as LogEntry[]) ?? []).filter(
        (e) => e.ts > at - windowMs && e.expiresAt > at,
      );
      const used = counted.reduce((a, e) => a + e.cost, 0);
      const reset = counted.reduce(
        (m, e) => Math.max(m, Math.min(e.ts + windowMs, e.expiresAt) - at),
        0,
      );
      return { used, limit, remaining: Math.max(0, limit - used), resetMs: reset };
    }
    const d = this.allow(
      at,
      key,
      ruleName,
      limit + rule.burst + 1,
      inline ? limit : undefined,
      inline ? windowMs : undefined,
      undefined,
      false,
    )[0];
    let used: number;
    if (rule.algorithm === 'sliding-counter') {
      const s = state as CounterState | undefined;
      used = s === undefined ? 0 : counterHeld(s, at);
    } else used = d.limit - d.remaining;
    return { used, limit: d.limit, remaining: Math.max(0, d.limit - used), resetMs: d.resetMs };
  }
}

// ---- sliding log: arrays of {ts, cost, expiresAt}, brute force ----

function logDecide(
  entries: LogEntry[],
  ts: number,
  cost: number,
  limit: number,
  windowMs: number,
): [ModelDecision, LogEntry[]] {
  const counted = entries.filter((e) => e.ts > ts - windowMs && e.expiresAt > ts);
  const held = counted.reduce((a, e) => a + e.cost, 0);
  const outOf = (e: LogEntry) => Math.min(e.ts + windowMs, e.expiresAt);
  if (cost <= limit && held + cost <= limit) {
    const kept = entries.filter((e) => e.expiresAt > ts);
    kept.push({ ts, cost, expiresAt: ts + windowMs });
    const decision = {
      allowed: true,
      limit,
      remaining: limit - held - cost,
      resetMs: windowMs,
      retryAfterMs: 0,
    };
    return [decision, kept];
  }
  const resetMs = counted.reduce((m, e) => Math.max(m, outOf(e) - ts), 0);
  let retryAfterMs: number | null = null;
  if (cost <= limit) {
    // The first future instant at which what is still counted leaves room for the cost.
    const candidates = counted.map(outOf).sort((a, b) => a - b);
    for (const t of candidates) {
      const stillHeld = counted.filter((e) => outOf(e) > t).reduce((a, e) => a + e.cost, 0);
      if (stillHeld + cost <= limit) {
        retryAfterMs = t - ts;
        break;
      }
    }
  }
  return [
    { allowed: false, limit, remaining: Math.max(0, limit - held), resetMs, retryAfterMs },
    entries,
  ];
}

// ---- sliding counter: the documented formula ----

export function counterHeld(s: CounterState, t: number): number {
  const aligned = Math.floor(t / s.windowMs) * s.windowMs;
  let prev = s.prev;
  let curr = s.curr;
  if (aligned === s.start + s.windowMs) {
    prev = s.curr;
    curr = 0;
  } else if (aligned !== s.start) {
    prev = 0;
    curr = 0;
  }
  const elapsed = t - aligned;
  return prev === 0 ? curr : curr + Math.ceil((prev * (s.windowMs - elapsed)) / s.windowMs);
}

function counterDecide(
  state: CounterState | undefined,
  ts: number,
  cost: number,
  limit: number,
  windowMs: number,
): [ModelDecision, CounterState] {
  const aligned = Math.floor(ts / windowMs) * windowMs;
  let s: CounterState;
  if (state === undefined) s = { windowMs, start: aligned, prev: 0, curr: 0 };
  else if (state.windowMs !== windowMs)
    s = { windowMs, start: aligned, prev: 0, curr: counterHeld(state, ts) };
  else {
    s = { ...state };
    if (aligned === s.start + windowMs) s = { windowMs, start: aligned, prev: s.curr, curr: 0 };
    else if (aligned !== s.start) s = { windowMs, start: aligned, prev: 0, curr: 0 };
  }
  const held = counterHeld(s, ts);
  const allowed = cost <= limit && held + cost <= limit;
  const after = allowed ? { ...s, curr: s.curr + cost } : s;
  const heldAfter = allowed ? held + cost : held;
  // held never rises while no grant happens: the first instant a condition holds is found by
  // bisection over [lo, 2 x windowMs] (by then everything has decayed).
  const firstFrom = (lo: number, ok: (d: number) => boolean): number => {
    let hi = 2 * windowMs;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (ok(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  let retryAfterMs: number | null = allowed ? 0 : null;
  if (!allowed && cost <= limit) {
    retryAfterMs = firstFrom(1, (d) => counterHeld(s, ts + d) + cost <= limit);
  }
  const resetMs = firstFrom(0, (d) => counterHeld(after, ts + d) === 0);
  return [
    { allowed, limit, remaining: Math.max(0, limit - heldAfter), resetMs, retryAfterMs },
    after,
  ];
}

// ---- token bucket: GCRA with exact rationals ----

function bucketDecide(
  state: BucketState | undefined,
  ts: number,
  cost: number,
  limit: number,
  windowMs: number,
  burst: number,
): [ModelDecision, BucketState] {
  const L = BigInt(limit);
  const W = BigInt(windowMs);
  const C = BigInt(limit + burst);
  const now = BigInt(ts);
  // Work in units of 1/L ms: emission interval T = W units, tolerance C*T.
  let tat = now * L; // bucket full
  if (state !== undefined) {
    const old = (state.num * L) / state.den; // exact when den divides num*L (den = old L)
    const exactOld = (state.num * L) % state.den === 0n;
    if (state.limit === limit && state.windowMs === windowMs && state.burst === burst && exactOld) {
      tat = old > tat ? old : tat;
    } else {
      // Tokens held under the old parameters, rounded up, capped at the new capacity.
      const oldBacklogNum = state.num - now * state.den; // in ms * den
      const oldT = BigInt(state.windowMs); // units of 1/oldL ms
      let held =
        oldBacklogNum > 0n ? ceilDiv(oldBacklogNum * BigInt(state.limit), state.den * oldT) : 0n;
      if (held > C) held = C;
      tat = now * L + held * W;
    }
  }
  const backlog = tat - now * L; // >= 0
  const allowed = BigInt(cost) <= C && backlog + BigInt(cost) * W <= C * W;
  const after = allowed ? backlog + BigInt(cost) * W : backlog;
  const used = ceilDiv(after, W);
  const capacity = limit + burst;
  let retryAfterMs: number | null = allowed ? 0 : null;
  if (!allowed && BigInt(cost) <= C) {
    const r = ceilDiv(backlog + (BigInt(cost) - C) * W, L);
    retryAfterMs = Number(r < 1n ? 1n : r);
  }
  const decision = {
    allowed,
    limit: capacity,
    remaining: Math.max(0, capacity - Number(used)),
    resetMs: after > 0n ? Number(ceilDiv(after, L)) : 0,
    retryAfterMs,
  };
  const next: BucketState = { num: now * L + after, den: L, limit, windowMs, burst };
  return [decision, next];
}
