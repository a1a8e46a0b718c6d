import { DrlError } from '../errors.js';
import {
  REQUEST_RETENTION_MS_DEFAULT,
  REQUESTS_MAX_DEFAULT,
  SWEEP_SLOTS_PER_COMMAND,
} from './bounds.js';
import { DeferredSnapshot, type FrozenPart } from './deferred-snapshot.js';
import { type RequestEntry, RequestTable, requestRecord } from './request-table.js';
import { SlidingCounterStore } from './sliding-counter-store.js';
import { SLIDING_LOG_UNIFORM_CODE } from './sliding-log-record.js';
import { SlidingLogStore } from './sliding-log-store.js';
import { TokenBucketStore } from './token-bucket-store.js';
import type {
  Algorithm,
  AllowCommand,
  ApplyResult,
  Command,
  Decision,
  LimiterStateMachine,
  OverrideSpec,
  RuleSpec,
  SnapshotOp,
  SnapshotWriter,
  StateRecord,
  Usage,
} from './types.js';
import {
  checkTokenBucketProduct,
  validateCost,
  validateInlinePair,
  validateKey,
  validateOverrideSpec,
  validateRequestId,
  validateRuleName,
  validateRuleSpec,
  validateTs,
} from './validate.js';
import type { WindowStore } from './window-store.js';

export interface LimiterOptions {
  /** How long (command time) a requestId is remembered. Default 10 minutes. */
  requestRetentionMs?: number;
  /** How many requestIds are remembered at most, oldest dropped first. Default 100,000. */
  requestsMax?: number;
}

/** The windows, overrides and (unless inline-only) spec of one rule name. */
interface RuleState {
  name: string;
  /** undefined: windows created by inline limits under a name that has no configured rule. */
  spec: Required<RuleSpec> | undefined;
  store: WindowStore;
  overrides: Map<string, OverrideSpec>;
}

/** Sweep every this many commands, this many steps at once (amortised per command). */
const SWEEP_EVERY = 8;
/** Read once (an imported binding can be a getter per access under some loaders). */
const SWEEP_BUDGET = SWEEP_EVERY * SWEEP_SLOTS_PER_COMMAND;

function newStore(algorithm: Algorithm): WindowStore {
  if (algorithm === 'sliding-counter') return new SlidingCounterStore();
  if (algorithm === 'token-bucket') return new TokenBucketStore();
  return new SlidingLogStore();
}

/**
 * The limiter state machine. `apply` and `allow` are the only mutators of decisions; they are
 * deterministic in the command sequence (no clock, timer or I/O). Eviction is driven by command
 * ts and only drops state that can never count again, so it never changes a decision.
 */
export class Limiter implements LimiterStateMachine {
  private rules = new Map<string, RuleState>();
  private requests: RequestTable;
  private ts = 0;
  private commands = 0;
  private sweepRules: Iterator<RuleState> | undefined;
  private sweepStore: WindowStore | undefined;
  /** The next slot of sweepStore the sweep looks at. */
  private sweepSlot = 0;
  /** Incremental snapshots: what changed since the last one (tracked once one was written). */
  private tracking = false;
  private dirtyRules = new Set<string>();
  private dirtyOverrides = new Map<string, Set<string>>();
  private droppedWindows: Array<[string, string]> = [];
  /** The deferred snapshot being written, if any (one at a time). */
  private deferred: DeferredSnapshot | null = null;
  /** Whether the last `allow` answered from the exactly-once table. */
  lastDuplicate = false;
  /** After a duplicate: the requestId table's entry that answered it. */
  lastFirst: RequestEntry | undefined = undefined;

  constructor(private readonly options: LimiterOptions = {}) {
    this.requests = new RequestTable(
      options.requestRetentionMs ?? REQUEST_RETENTION_MS_DEFAULT,
      options.requestsMax ?? REQUESTS_MAX_DEFAULT,
    );
  }

  get lastTs(): number {
    return this.ts;
  }

  get keyCount(): number {
    let count = 0;
    for (const rule of this.rules.values()) count += rule.store.keys.size;
    return count;
  }

  /**
   * Window records the next incremental snapshot writes at most (keys changed or evicted since
   * the last one, dropped rules' keys, overrides): what a snapshot policy weighs. 0 until
   * snapshots are tracked.
   */
  get changedWindowCount(): number {
    let count = this.droppedWindows.length;
    for (const rule of this.rules.values()) count += rule.store.changedCount;
    for (const keys of this.dirtyOverrides.values()) count += keys.size;
    return count;
  }

  /** requestId records the next incremental snapshot writes or deletes at most. */
  get changedRequestCount(): number {
    return this.requests.changedCount;
  }

  /** Number of requestIds remembered. */
  get requestCount(): number {
    return this.requests.size;
  }

  /** Configured rules, in creation order. */
  listRules(): Array<{ name: string; spec: Required<RuleSpec> }> {
    const out: Array<{ name: string; spec: Required<RuleSpec> }> = [];
    for (const rule of this.rules.values()) {
      if (rule.spec !== undefined) out.push({ name: rule.name, spec: { ...rule.spec } });
    }
    return out;
  }

  getRule(name: string): Required<RuleSpec> | undefined {
    const spec = this.rules.get(name)?.spec;
    return spec === undefined ? undefined : { ...spec };
  }

  listOverrides(rule: string): Array<{ key: string; spec: OverrideSpec }> {
    const state = this.rules.get(rule);
    if (state?.spec === undefined) throw unknownRule(rule);
    return [...state.overrides].map(([key, spec]) => ({ key, spec: { ...spec } }));
  }

  /**
   * `logIndex` is where the caller's log placed the command (a replicated node's entry index):
   * kept with a requestId's decision so a retry can name the entry that first decided it.
   */
  apply(command: Command, logIndex?: number): ApplyResult {
    if (typeof command !== 'object' || command === null) {
      throw new DrlError('invalid_argument', 'command must be an object');
    }
    switch (command.type) {
      case 'allow': {
        const decision = this.allow(
          command.ts,
          command.key,
          command.rule,
          command.cost,
          command.limit,
          command.windowMs,
          command.requestId,
          logIndex,
        );
        if (!this.lastDuplicate) return { type: 'decision', decision, duplicate: false };
        const first = this.lastFirst!;
        return {
          type: 'decision',
          decision,
          duplicate: true,
          firstTs: first.ts,
          firstLogIndex: first.logIndex,
        };
      }
      case 'setRule':
        this.setRule(command.ts, command.name, command.spec);
        return { type: 'ok' };
      case 'deleteRule':
        this.deleteRule(command.ts, command.name);
        return { type: 'ok' };
      case 'setOverride':
        this.setOverride(command.ts, command.rule, command.key, command.spec);
        return { type: 'ok' };
      case 'deleteOverride':
        this.deleteOverride(command.ts, command.rule, command.key);
        return { type: 'ok' };
      case 'tick':
        this.advance(this.checkTs(command.ts));
        return { type: 'ok' };
      default:
        throw new DrlError(
          'invalid_argument',
          `unknown command type ${JSON.stringify((command as { type: unknown }).type)}`,
        );
    }
  }

  /**
   * The fast path of `apply({type:'allow', ...})`: same validation, same effect, no command
   * object. Returns a fresh Decision object each call (never retained by the engine), so callers
   * may hand it to users as is. `lastDuplicate` tells whether it came from the requestId table
   * (then `lastFirst` is the table's entry: the first decision's ts and log index).
   */
  allow(
    ts: number,
    key: string,
    rule = 'default',
    cost = 1,
    limit?: number,
    windowMs?: number,
    requestId?: string,
    logIndex?: number,
  ): Decision {
    this.checkTs(ts);
    const state = this.resolve(key, rule, cost, limit, windowMs);
    const effLimit = this.effLimit;
    const effWindowMs = this.effWindowMs;
    let fingerprint = '';
    if (requestId !== undefined) {
      validateRequestId(requestId);
      fingerprint = JSON.stringify([rule, key, cost, limit ?? null, windowMs ?? null]);
      const prior = this.requests.get(requestId, ts);
      if (prior !== undefined) {
        if (prior.fingerprint !== fingerprint) {
          throw new DrlError(
            'request_id_conflict',
            `requestId ${JSON.stringify(requestId)} was used with another request`,
          );
        }
        this.advance(ts);
        this.lastDuplicate = true;
        this.lastFirst = prior;
        return { ...prior.decision };
      }
    }
    const target = state ?? this.createRuleState(rule, undefined, 'sliding-log');
    const decision = target.store.decide(
      key,
      ts,
      cost,
      effLimit,
      effWindowMs,
      target.spec?.burst ?? 0,
      true,
    );
    if (requestId !== undefined) {
      this.requests.put(requestId, fingerprint, ts, Object.freeze({ ...decision }), logIndex);
    }
    this.lastDuplicate = false;
    this.advance(ts);
    return decision;
  }

  evaluate(command: AllowCommand): Decision {
    const ts = Math.max(validateTs(command.ts), this.ts);
    const rule = command.rule ?? 'default';
    const cost = command.cost ?? 1;
    const state = this.resolve(command.key, rule, cost, command.limit, command.windowMs);
    if (command.requestId !== undefined) {
      validateRequestId(command.requestId);
      const prior = this.requests.get(command.requestId, ts);
      if (prior !== undefined) return { ...prior.decision };
    }
    if (state === undefined) {
      return new SlidingLogStore().decide(
        command.key,
        ts,
        cost,
        this.effLimit,
        this.effWindowMs,
        0,
        false,
      );
    }
    return state.store.decide(
      command.key,
      ts,
      cost,
      this.effLimit,
      this.effWindowMs,
      state.spec?.burst ?? 0,
      false,
    );
  }

  /** With `limit` and `windowMs`: the key's usage under that inline limit (as `allow` takes it). */
  usage(rule: string, key: string, ts: number, limit?: number, windowMs?: number): Usage {
    const at = Math.max(validateTs(ts), this.ts);
    const state = this.resolve(key, rule, 1, limit, windowMs);
    // An inline limit under a rule no call has used yet: the key holds nothing.
    if (state === undefined) {
      return { used: 0, limit: this.effLimit, remaining: this.effLimit, resetMs: 0 };
    }
    return state.store.usage(key, at, this.effLimit, this.effWindowMs, state.spec?.burst ?? 0);
  }

  setRule(ts: number, name: string, spec: RuleSpec): void {
    this.checkTs(ts);
    validateRuleName(name);
    const valid = validateRuleSpec(spec);
    for (const override of this.rules.get(name)?.overrides.values() ?? []) {
      if (valid.algorithm === 'token-bucket') {
        checkTokenBucketProduct(override.limit, valid.burst, override.windowMs);
      }
    }
    const existing = this.rules.get(name);
    if (existing === undefined) this.createRuleState(name, valid, valid.algorithm);
    else {
      if (existing.store.algorithm !== valid.algorithm) {
        // Another algorithm cannot read the old windows: they are dropped.
        this.dropWindows(existing);
        existing.store = newStore(valid.algorithm);
        if (this.tracking) existing.store.startTracking();
      }
      existing.spec = valid;
    }
    if (this.tracking) this.dirtyRules.add(name);
    this.advance(ts);
  }

  /** Drops the rule, its overrides and all its windows (inline ones under its name too). */
  deleteRule(ts: number, name: string): void {
    this.checkTs(ts);
    validateRuleName(name);
    const existing = this.rules.get(name);
    if (existing?.spec === undefined) throw unknownRule(name);
    this.dropWindows(existing);
    if (this.tracking) {
      this.dirtyRules.add(name);
      for (const key of existing.overrides.keys()) this.noteOverride(name, key);
    }
    this.rules.delete(name);
    this.advance(ts);
  }

  setOverride(ts: number, rule: string, key: string, spec: OverrideSpec): void {
    this.checkTs(ts);
    validateRuleName(rule);
    validateKey(key);
    const valid = validateOverrideSpec(spec);
    const state = this.rules.get(rule);
    if (state?.spec === undefined) throw unknownRule(rule);
    if (state.spec.algorithm === 'token-bucket') {
      checkTokenBucketProduct(valid.limit, state.spec.burst, valid.windowMs);
    }
    state.overrides.set(key, valid);
    if (this.tracking) this.noteOverride(rule, key);
    this.advance(ts);
  }

  /** Removing an override that does not exist is a no-op (the rule must exist). */
  deleteOverride(ts: number, rule: string, key: string): void {
    this.checkTs(ts);
    validateRuleName(rule);
    validateKey(key);
    const state = this.rules.get(rule);
    if (state?.spec === undefined) throw unknownRule(rule);
    if (state.overrides.delete(key) && this.tracking) this.noteOverride(rule, key);
    this.advance(ts);
  }

  writeSnapshot(writer: SnapshotWriter, appliedIndex: number, mode: 'full' | 'incremental'): void {
    if (mode === 'incremental' && !this.tracking) {
      throw new DrlError('internal', 'an incremental snapshot needs a full one (or restore) first');
    }
    this.assertNoDeferred();
    writer.begin(appliedIndex, mode);
    for (const record of this.metaRecords()) writer.put(record);
    if (mode === 'full') {
      for (const record of this.records()) if (record.kind !== 'meta') writer.put(record);
      this.resetDirty();
    } else this.writeIncremental(writer);
    writer.commit();
    this.startTracking();
  }

  /**
   * An incremental snapshot at `appliedIndex` whose window records are read later, a few at a
   * time, while commands go on applying (copy-on-write, SlotTable.freezeDirty): the capture is
   * array swaps, not an encode per changed key in one turn. The caller writes it to the end or
   * releases it; a released one lost its dirty marks, so the next snapshot must be full.
   */
  captureSnapshot(appliedIndex: number): DeferredSnapshot {
    if (!this.tracking) {
      throw new DrlError('internal', 'an incremental snapshot needs a full one (or restore) first');
    }
    this.assertNoDeferred();
    const ops: SnapshotOp[] = [];
    const collect: SnapshotWriter = {
      begin() {},
      put: (record) => ops.push({ put: record }),
      delete: (id) => ops.push({ del: id }),
      commit() {},
    };
    for (const record of this.metaRecords()) collect.put(record);
    const lists = { windows: [] as FrozenPart[], requests: [] as Array<[string, RequestEntry]> };
    this.writeIncremental(collect, lists);
    const deferred = new DeferredSnapshot(appliedIndex, ops, lists.requests, lists.windows, () => {
      if (this.deferred === deferred) this.deferred = null;
    });
    this.deferred = deferred;
    return deferred;
  }

  private assertNoDeferred(): void {
    if (this.deferred !== null) {
      throw new DrlError('internal', 'a deferred snapshot is still being written');
    }
  }

  /** Every record of the current state (what a full snapshot holds), lazily. */
  *records(): Iterable<StateRecord> {
    yield* this.metaRecords();
    for (const rule of this.rules.values()) {
      if (rule.spec !== undefined) yield { kind: 'rule', name: rule.name, spec: { ...rule.spec } };
    }
    for (const rule of this.rules.values()) {
      for (const [key, spec] of rule.overrides) {
        yield { kind: 'override', rule: rule.name, key, spec: { ...spec } };
      }
    }
    for (const rule of this.rules.values()) {
      for (const [key, slot] of rule.store.keys) {
        const data = rule.store.encode(slot, this.ts);
        if (data !== undefined) yield { kind: 'window', rule: rule.name, key, data };
      }
    }
    for (const [id, entry] of this.requests.live(this.ts)) yield requestRecord(id, entry);
  }

  restore(records: Iterable<StateRecord>): void {
    // The whole state is replaced: a deferred snapshot of the old one is moot.
    this.deferred?.release();
    const fresh = new Limiter(this.options);
    fresh.load(records);
    this.rules = fresh.rules;
    this.requests = fresh.requests;
    this.ts = fresh.ts;
    this.commands = 0;
    this.sweepRules = undefined;
    this.sweepStore = undefined;
    this.resetDirty();
    this.startTracking();
  }

  // ---- internals ----

  /** Effective limit and window of the last `resolve` (fields, to avoid a result object). */
  private effLimit = 0;
  private effWindowMs = 0;

  /**
   * Validates an allow's inputs and finds its rule state (undefined: inline limits under a
   * name with no state yet). Sets effLimit/effWindowMs. Throws before any change.
   */
  private resolve(
    key: string,
    rule: string,
    cost: number,
    limit: number | undefined,
    windowMs: number | undefined,
  ): RuleState | undefined {
    validateKey(key);
    if (cost !== 1) validateCost(cost);
    const state = this.rules.get(rule);
    if (state === undefined) validateRuleName(rule);
    if (limit !== undefined || windowMs !== undefined) {
      validateInlinePair(limit, windowMs);
      this.effLimit = limit!;
      this.effWindowMs = windowMs!;
      if (state?.spec?.algorithm === 'token-bucket') {
        checkTokenBucketProduct(limit!, state.spec.burst, windowMs!);
      }
      return state;
    }
    if (state?.spec === undefined) throw unknownRule(rule);
    const override = state.overrides.size === 0 ? undefined : state.overrides.get(key);
    this.effLimit = override === undefined ? state.spec.limit : override.limit;
    this.effWindowMs = override === undefined ? state.spec.windowMs : override.windowMs;
    return state;
  }

  private checkTs(ts: number): number {
    if (ts < this.ts || !Number.isSafeInteger(ts)) {
      validateTs(ts);
      throw new DrlError('internal', `ts went backwards: ${ts} < lastTs ${this.ts}`);
    }
    return ts;
  }

  /** Commits ts and does this command's share of the eviction sweep. */
  private advance(ts: number): void {
    this.ts = ts;
    if (++this.commands % SWEEP_EVERY === 0) {
      this.sweep(ts, SWEEP_BUDGET);
      // Without requestIds the table stays empty: skip its sweep (it allocates an iterator).
      if (this.requests.size > 0) this.requests.sweep(ts, SWEEP_EVERY);
    }
  }

  /** Examines up to `budget` slots (or rule steps) in round-robin order. */
  private sweep(ts: number, budget: number): void {
    for (let step = 0; step < budget; step++) {
      const store = this.sweepStore;
      if (store === undefined) {
        this.sweepRules ??= this.rules.values();
        const next = this.sweepRules.next();
        if (next.done) {
          // One pass over every rule ended: the next pass starts at the next sweep.
          this.sweepRules = undefined;
          return;
        }
        const rule = next.value;
        if (rule.spec === undefined && rule.store.keys.size === 0) {
          this.rules.delete(rule.name);
          continue;
        }
        this.sweepStore = rule.store;
        this.sweepSlot = 0;
        continue;
      }
      // Slot order (free slots count towards the budget too: the work per command stays bounded).
      const slot = this.sweepSlot++;
      if (slot >= store.keys.end) this.sweepStore = undefined;
      else if (store.keys.isLive(slot)) store.sweepSlot(slot, ts);
    }
  }

  private createRuleState(
    name: string,
    spec: Required<RuleSpec> | undefined,
    algorithm: Algorithm,
  ): RuleState {
    const state: RuleState = { name, spec, store: newStore(algorithm), overrides: new Map() };
    if (this.tracking) state.store.startTracking();
    this.rules.set(name, state);
    return state;
  }

  private dropWindows(state: RuleState): void {
    if (this.tracking) {
      for (const key of state.store.keys.keys()) this.droppedWindows.push([state.name, key]);
      for (const key of state.store.takeDirty().evicted)
        this.droppedWindows.push([state.name, key]);
    }
    if (this.sweepStore === state.store) this.sweepStore = undefined;
  }

  private noteOverride(rule: string, key: string): void {
    let keys = this.dirtyOverrides.get(rule);
    if (keys === undefined) {
      keys = new Set();
      this.dirtyOverrides.set(rule, keys);
    }
    keys.add(key);
  }

  private metaRecords(): StateRecord[] {
    return [
      { kind: 'meta', name: 'lastTs', value: this.ts },
      { kind: 'meta', name: 'requestSeq', value: this.requests.seq },
    ];
  }

  /**
   * `deferred` given (a deferred snapshot): window states are frozen in their stores and the
   * changed requestIds' entries (never changed once written: a put replaces the object) are
   * listed there, to become records when written; everything else goes to the writer now.
   */
  private writeIncremental(
    writer: SnapshotWriter,
    deferred?: { windows: FrozenPart[]; requests: Array<[string, RequestEntry]> },
  ): void {
    for (const name of this.dirtyRules) {
      const spec = this.rules.get(name)?.spec;
      if (spec === undefined) writer.delete({ kind: 'rule', name });
      else writer.put({ kind: 'rule', name, spec: { ...spec } });
    }
    for (const [rule, keys] of this.dirtyOverrides) {
      const overrides = this.rules.get(rule)?.overrides;
      for (const key of keys) {
        const spec = overrides?.get(key);
        if (spec === undefined) writer.delete({ kind: 'override', rule, key });
        else writer.put({ kind: 'override', rule, key, spec: { ...spec } });
      }
    }
    for (const [rule, key] of this.droppedWindows) writer.delete({ kind: 'window', rule, key });
    for (const state of this.rules.values()) {
      if (deferred !== undefined) {
        const { evicted, frozen: count } = state.store.freezeDirty(this.ts);
        this.writeEvicted(writer, state, evicted);
        deferred.windows.push({ rule: state.name, store: state.store, count });
        continue;
      }
      const { changed, slots, evicted } = state.store.takeDirty();
      this.writeEvicted(writer, state, evicted);
      for (let i = 0; i < changed.length; i++) {
        const slot = slots[i]!;
        // Evicted since it changed: deleted above unless back in another slot (then listed again).
        if (slot < 0) continue;
        const key = changed[i]!;
        const data = state.store.encode(slot, this.ts);
        if (data !== undefined) writer.put({ kind: 'window', rule: state.name, key, data });
        else writer.delete({ kind: 'window', rule: state.name, key });
      }
    }
    const { changed, removed } = this.requests.takeDirty(this.ts);
    for (const id of removed) writer.delete({ kind: 'request', id });
    if (deferred !== undefined) deferred.requests = changed;
    else for (const [id, entry] of changed) writer.put(requestRecord(id, entry));
    this.dirtyRules = new Set();
    this.dirtyOverrides = new Map();
    this.droppedWindows = [];
  }

  /** Evicted keys not back since (a key back in another slot is written as changed). */
  private writeEvicted(writer: SnapshotWriter, state: RuleState, evicted: string[]): void {
    for (const key of evicted) {
      if (!state.store.keys.has(key)) writer.delete({ kind: 'window', rule: state.name, key });
    }
  }

  private resetDirty(): void {
    this.dirtyRules = new Set();
    this.dirtyOverrides = new Map();
    this.droppedWindows = [];
    for (const state of this.rules.values()) state.store.takeDirty();
    this.requests.takeDirty(this.ts);
  }

  private startTracking(): void {
    this.tracking = true;
    for (const state of this.rules.values()) state.store.startTracking();
    this.requests.startTracking();
  }

  /**
   * Fills an empty engine from records in any order. Windows are loaded as of lastTs (parts
   * expired by then are left out), so window records that come before the meta record wait.
   */
  private load(records: Iterable<StateRecord>): void {
    const overrides: Array<Extract<StateRecord, { kind: 'override' }>> = [];
    const early: Array<Extract<StateRecord, { kind: 'window' }>> = [];
    const requests: Array<[string, RequestEntry]> = [];
    let nextSeq = 0;
    let lastTs: number | undefined;
    for (const record of records) {
      switch (record.kind) {
        case 'meta':
          if (record.name === 'lastTs') lastTs = this.ts = record.value;
          else if (record.name === 'requestSeq') nextSeq = record.value;
          break;
        case 'rule': {
          const spec = validateRuleSpec(record.spec);
          const state = this.rules.get(record.name);
          if (state === undefined) this.createRuleState(record.name, spec, spec.algorithm);
          else if (state.store.algorithm !== spec.algorithm) throw corrupt('rule algorithm');
          else state.spec = spec;
          break;
        }
        case 'override':
          overrides.push(record);
          break;
        case 'window':
          if (lastTs === undefined) early.push(record);
          else this.loadWindow(record, lastTs);
          break;
        case 'request':
          requests.push([
            record.id,
            {
              fingerprint: record.fingerprint,
              ts: record.ts,
              decision: Object.freeze({ ...record.decision }),
              seq: record.seq ?? requests.length,
              logIndex: record.logIndex,
            },
          ]);
          break;
        default:
          throw corrupt('record kind');
      }
    }
    if (lastTs === undefined && (early.length > 0 || requests.length > 0)) {
      throw corrupt('snapshot without a lastTs meta record');
    }
    for (const record of early) this.loadWindow(record, this.ts);
    for (const record of overrides) {
      const state = this.rules.get(record.rule);
      if (state?.spec === undefined) throw corrupt(`override of unknown rule ${record.rule}`);
      state.overrides.set(record.key, validateOverrideSpec(record.spec));
    }
    this.requests.restore(requests);
    this.requests.setNextSeq(nextSeq);
  }

  private loadWindow(record: Extract<StateRecord, { kind: 'window' }>, ts: number): void {
    const algorithm = algorithmOfWindow(record.data);
    const state =
      this.rules.get(record.rule) ?? this.createRuleState(record.rule, undefined, algorithm);
    if (state.store.algorithm !== algorithm) throw corrupt('window algorithm');
    state.store.load(record.key, record.data, ts);
  }
}

function algorithmOfWindow(data: Uint8Array): Algorithm {
  const code = data[0];
  // 4: a sliding-log key's one-window record (sliding-log-record.ts). An unknown code is refused.
  if (code === 1 || code === SLIDING_LOG_UNIFORM_CODE) return 'sliding-log';
  if (code === 2) return 'sliding-counter';
  if (code === 3) return 'token-bucket';
  throw corrupt('window algorithm code');
}

function unknownRule(name: string): DrlError {
  return new DrlError(
    'unknown_rule',
    `no rule named ${JSON.stringify(name)} (and no inline limit)`,
  );
}

function corrupt(what: string): DrlError {
  return new DrlError('storage_corrupt', `snapshot record: bad ${what}`);
}

export function createLimiter(options?: LimiterOptions): Limiter {
  return new Limiter(options);
}
