// Shared by the limiter property tests (test/limiter): random command scripts run against the engine
// and the reference model side by side. The model (limiter-model.ts) imports nothing from src/limiter;
// this harness is the only file here that touches the engine.
import fc from 'fast-check';
import { DrlError } from '../../src/errors.js';
import {
  createLimiter,
  decodeSnapshot,
  encodeSnapshot,
  type Limiter,
  type SnapshotWriter,
  type StateRecord,
  type StateRecordId,
} from '../../src/limiter/index.js';
import { LimiterModel, type ModelAlgorithm, ModelError } from './limiter-model.js';

export const OPTIONS = { requestRetentionMs: 3000, requestsMax: 4 };

export type Step =
  | {
      op: 'allow';
      dt: number;
      key: string;
      rule?: string;
      cost?: number;
      limit?: number;
      windowMs?: number;
      requestId?: string;
      /** Repeat the previous allow's body (a client retry) when it had a requestId. */
      duplicate?: boolean;
    }
  | {
      op: 'setRule';
      dt: number;
      name: string;
      limit: number;
      windowMs: number;
      algorithm?: ModelAlgorithm;
      burst?: number;
    }
  | { op: 'deleteRule'; dt: number; name: string }
  | { op: 'setOverride'; dt: number; rule: string; key: string; limit: number; windowMs: number }
  | { op: 'deleteOverride'; dt: number; rule: string; key: string }
  | { op: 'tick'; dt: number }
  | { op: 'usage'; dt: number; rule: string; key: string; limit?: number; windowMs?: number }
  | { op: 'evaluate'; dt: number; key: string; rule?: string; cost?: number }
  | { op: 'snapshot'; how: 'records' | 'codec' | 'full' | 'incremental'; shuffle: number };

const dt = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 100_000_000 }) },
  // Past 32-bit ms offsets: per-key rebases and epoch moves.
  { weight: 1, arbitrary: fc.integer({ min: 1_000_000_000, max: 3_000_000_000 }) },
);
/** Allows come in quick succession (to reach the limits); other steps carry the long gaps. */
const dtAllow = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1500 }) },
);
const key = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('a', 'b', 'c', 'user:é') },
  { weight: 1, arbitrary: fc.constantFrom('', '\uD800', 'x'.repeat(513)) },
);
const ruleName = fc.constantFrom('default', 'default', 'default', 'default', 'r2', 'inline-only');
const limit = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(10, 100));
const windowMs = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }) },
  { weight: 2, arbitrary: fc.constantFrom(100, 1000, 2500) },
  { weight: 1, arbitrary: fc.constantFrom(1_000_000_000, 31 * 86_400_000) },
);
const cost = fc.oneof(
  { weight: 10, arbitrary: fc.constant(1) },
  { weight: 4, arbitrary: fc.integer({ min: 2, max: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1.5) },
);

/** A script: a first rule for "default", then steps. */
export function scriptArb(algorithms: ModelAlgorithm[]): fc.Arbitrary<Step[]> {
  const first = fc.record({
    op: fc.constant('setRule' as const),
    dt: fc.constant(0),
    name: fc.constant('default'),
    limit: fc.integer({ min: 1, max: 5 }),
    windowMs: fc.constantFrom(50, 200, 1000),
    algorithm: fc.constantFrom(...algorithms),
    burst: fc.integer({ min: 0, max: 3 }),
  });
  return fc
    .tuple(first, fc.array(stepArb(algorithms), { minLength: 10, maxLength: 90 }))
    .map(([rule, steps]) => [rule as Step, ...steps]);
}

export function stepArb(algorithms: ModelAlgorithm[]): fc.Arbitrary<Step> {
  const algorithm = fc.constantFrom(...algorithms);
  return fc.oneof(
    {
      weight: 40,
      arbitrary: fc.record(
        {
          op: fc.constant('allow' as const),
          dt: dtAllow,
          key,
          rule: ruleName,
          cost,
          requestId: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', ''),
          duplicate: fc.boolean(),
        },
        { requiredKeys: ['op', 'dt', 'key'] },
      ),
    },
    {
      weight: 6,
      arbitrary: fc
        .record({
          op: fc.constant('allow' as const),
          dt: dtAllow,
          key,
          rule: ruleName,
          cost,
          limit,
          windowMs,
        })
        .map((s) => s),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('allow' as const), dt, key, limit }),
    },
    {
      weight: 4,
      arbitrary: fc.record(
        {
          op: fc.constant('setRule' as const),
          dt,
          name: fc.constantFrom('default', 'r2'),
          limit,
          windowMs,
          algorithm,
          burst: fc.integer({ min: 0, max: 3 }),
        },
        { requiredKeys: ['op', 'dt', 'name', 'limit', 'windowMs'] },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('deleteRule' as const), dt, name: ruleName }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('setOverride' as const),
        dt,
        rule: ruleName,
        key,
        limit,
        windowMs,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('deleteOverride' as const), dt, rule: ruleName, key }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), dt }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('usage' as const),
        dt,
        rule: fc.constantFrom('default', 'r2'),
        key: fc.constantFrom('a', 'b'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('usage' as const),
        dt,
        rule: ruleName,
        key: fc.constantFrom('a', 'b'),
        limit,
        windowMs,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record(
        { op: fc.constant('evaluate' as const), dt, key, rule: ruleName, cost },
        { requiredKeys: ['op', 'dt', 'key'] },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('snapshot' as const),
        how: fc.constantFrom(
          'records' as const,
          'codec' as const,
          'full' as const,
          'incremental' as const,
        ),
        shuffle: fc.integer({ min: 0, max: 1_000_000 }),
      }),
    },
  );
}

function recordId(id: StateRecordId | StateRecord): string {
  switch (id.kind) {
    case 'meta':
    case 'rule':
      return `${id.kind}|${id.name}`;
    case 'override':
    case 'window':
      return `${id.kind}|${id.rule}|${id.key}`;
    case 'request':
      return `request|${id.id}`;
  }
}

/** An in-memory SnapshotWriter: full replaces, incremental upserts and deletes. */
export class MemoryWriter implements SnapshotWriter {
  records = new Map<string, StateRecord>();
  private pending: Array<['put', StateRecord] | ['delete', StateRecordId]> = [];
  private mode: 'full' | 'incremental' = 'full';
  appliedIndex = -1;
  begin(appliedIndex: number, mode: 'full' | 'incremental'): void {
    this.appliedIndex = appliedIndex;
    this.mode = mode;
    this.pending = [];
  }
  put(record: StateRecord): void {
    this.pending.push(['put', record]);
  }
  delete(id: StateRecordId): void {
    this.pending.push(['delete', id]);
  }
  commit(): void {
    if (this.mode === 'full') this.records = new Map();
    for (const [what, item] of this.pending) {
      if (what === 'put') this.records.set(recordId(item), item);
      else this.records.delete(recordId(item));
    }
  }
}

/** A deterministic shuffle (records may come back from storage in any order). */
export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed + 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function codeOf(run: () => unknown): { code: string } | { value: unknown } {
  try {
    return { value: run() };
  } catch (error) {
    if (error instanceof DrlError) return { code: error.code };
    if (error instanceof ModelError) return { code: error.code };
    throw error;
  }
}

export interface RunResult {
  ok: boolean;
  message: string;
}

/** Runs one script on engine and model; returns the first disagreement. */
export function runScript(steps: Step[], t0 = 1_700_000_000_000): RunResult {
  let engine: Limiter = createLimiter(OPTIONS);
  const model = new LimiterModel(OPTIONS);
  const writer = new MemoryWriter();
  let tracked = false;
  let ts = t0;
  let index = 0;
  let previous: Step | undefined;
  for (let [i, step] of steps.entries()) {
    if (step.op === 'allow' && step.duplicate && previous?.op === 'allow' && previous.requestId) {
      step = { ...previous, dt: step.dt };
    }
    if (step.op === 'setRule' && step.algorithm !== 'token-bucket') step = { ...step, burst: 0 };
    previous = step;
    if (step.op === 'snapshot') {
      let records: StateRecord[];
      if (step.how === 'records') records = [...engine.records()];
      else if (step.how === 'codec')
        records = [...decodeSnapshot(encodeSnapshot(engine.records()))];
      else {
        engine.writeSnapshot(
          writer,
          ++index,
          step.how === 'incremental' && tracked ? 'incremental' : 'full',
        );
        records = [...writer.records.values()];
      }
      engine = createLimiter(OPTIONS);
      engine.restore(shuffled(records, step.shuffle));
      writer.records = new Map(records.map((r) => [recordId(r), r]));
      tracked = true;
      continue;
    }
    ts += step.dt;
    const m = codeOf(() => modelStep(model, step, ts));
    const e = codeOf(() => engineStep(engine, step, ts));
    const same = JSON.stringify(m) === JSON.stringify(e);
    if (!same) {
      return {
        ok: false,
        message: `step ${i} ${JSON.stringify(step)} at ts ${ts}: model ${JSON.stringify(m)} engine ${JSON.stringify(e)}`,
      };
    }
  }
  return { ok: true, message: '' };
}

function modelStep(
  model: LimiterModel,
  step: Exclude<Step, { op: 'snapshot' }>,
  ts: number,
): unknown {
  switch (step.op) {
    case 'allow': {
      const [decision, duplicate] = model.allow(
        ts,
        step.key,
        step.rule,
        step.cost,
        step.limit,
        step.windowMs,
        step.requestId,
      );
      return { decision, duplicate };
    }
    case 'setRule':
      return model.setRule(ts, step.name, {
        limit: step.limit,
        windowMs: step.windowMs,
        algorithm: step.algorithm,
        burst: step.burst,
      });
    case 'deleteRule':
      return model.deleteRule(ts, step.name);
    case 'setOverride':
      return model.setOverride(ts, step.rule, step.key, {
        limit: step.limit,
        windowMs: step.windowMs,
      });
    case 'deleteOverride':
      return model.deleteOverride(ts, step.rule, step.key);
    case 'tick':
      return model.tick(ts);
    case 'usage':
      return model.usage(step.rule, step.key, ts, step.limit, step.windowMs);
    case 'evaluate':
      return model.allow(
        ts,
        step.key,
        step.rule,
        step.cost,
        undefined,
        undefined,
        undefined,
        false,
      )[0];
  }
}

function engineStep(engine: Limiter, step: Exclude<Step, { op: 'snapshot' }>, ts: number): unknown {
  switch (step.op) {
    case 'allow': {
      const result = engine.apply({
        type: 'allow',
        ts,
        key: step.key,
        rule: step.rule,
        cost: step.cost,
        limit: step.limit,
        windowMs: step.windowMs,
        requestId: step.requestId,
      });
      if (result.type !== 'decision') throw new Error('allow gave no decision');
      return { decision: result.decision, duplicate: result.duplicate };
    }
    case 'setRule': {
      const spec: { limit: number; windowMs: number; algorithm?: ModelAlgorithm; burst?: number } =
        {
          limit: step.limit,
          windowMs: step.windowMs,
        };
      if (step.algorithm !== undefined) spec.algorithm = step.algorithm;
      if (step.burst !== undefined) spec.burst = step.burst;
      engine.apply({ type: 'setRule', ts, name: step.name, spec });
      return undefined;
    }
    case 'deleteRule':
      engine.apply({ type: 'deleteRule', ts, name: step.name });
      return undefined;
    case 'setOverride':
      engine.apply({
        type: 'setOverride',
        ts,
        rule: step.rule,
        key: step.key,
        spec: { limit: step.limit, windowMs: step.windowMs },
      });
      return undefined;
    case 'deleteOverride':
      engine.apply({ type: 'deleteOverride', ts, rule: step.rule, key: step.key });
      return undefined;
    case 'tick':
      engine.apply({ type: 'tick', ts });
      return undefined;
    case 'usage':
      return engine.usage(step.rule, step.key, ts, step.limit, step.windowMs);
    case 'evaluate':
      return engine.evaluate({
        type: 'allow',
        ts,
        key: step.key,
        rule: step.rule,
        cost: step.cost,
      });
  }
}
