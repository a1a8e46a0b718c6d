// A result nobody waits for is not built (`apply(entry, false)`: a follower's entries), but the
// entry changes the state exactly as when its result is wanted: same engine records, same stored
// snapshot, same later decisions; a command the engine refuses changes nothing either way.
import fc from 'fast-check';
import t from 'tap';
import { LimiterStateMachine } from '../../src/cli/serve/limiter-state-machine.js';
import { encodeCommand } from '../../src/limiter/command-codec.js';
import { createLimiter } from '../../src/limiter/index.js';
import type { Command, StateRecord } from '../../src/limiter/types.js';
import { EntryType } from '../../src/raft/types.js';
import { LimiterSnapshotStore } from '../../src/storage/limiter-snapshot-store.js';
import { openExclusiveDatabase } from '../../src/storage/sqlite-open.js';

const T0 = 1_700_000_000_000;

function json(records: Iterable<StateRecord>): string[] {
  return [...records]
    .map((r) => JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? [...v] : v)))
    .sort();
}

const step = fc.record({
  dt: fc.integer({ min: 0, max: 300 }),
  kind: fc.constantFrom('inline', 'inline', 'rule', 'unknownRule', 'setRule', 'retry'),
  key: fc.constantFrom('a', 'b', 'c'),
  cost: fc.constantFrom(1, 1, 2, 50),
  requestId: fc.option(fc.constantFrom('r1', 'r2', 'r3'), { nil: undefined }),
});

type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

function commandOf(s: Step, ts: number): Command {
  switch (s.kind) {
    case 'setRule':
      return { type: 'setRule', ts, name: 'r', spec: { limit: 4, windowMs: 700 } };
    case 'rule':
      return { type: 'allow', ts, key: s.key, rule: 'r', cost: s.cost, requestId: s.requestId };
    case 'unknownRule':
      return { type: 'allow', ts, key: s.key, rule: 'nope', cost: s.cost };
    case 'retry':
      // The same requestId with another request: request_id_conflict, refused.
      return { type: 'allow', ts, key: 'z', cost: 1, limit: 9, windowMs: 500, requestId: 'r1' };
    default:
      return {
        type: 'allow',
        ts,
        key: s.key,
        cost: s.cost,
        limit: 10,
        windowMs: 1000,
        requestId: s.requestId,
      };
  }
}

t.test('apply(entry, false) changes the state as apply(entry) does', async (t) => {
  const dir = t.testdir();
  let run = 0;
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      run++;
      const machines = [true, false].map((wanted) => {
        const db = openExclusiveDatabase(`${dir}/${run}-${wanted}.db`);
        const store = new LimiterSnapshotStore(db);
        const sm = new LimiterStateMachine(createLimiter(), store, { snapshotEveryEntries: 1e9 });
        return { wanted, db, store, sm };
      });
      let ts = T0;
      let index = 0;
      for (const s of steps) {
        ts += s.dt;
        const data = encodeCommand(commandOf(s, ts));
        index++;
        for (const m of machines) {
          const out = m.sm.apply({ index, term: 1, type: EntryType.Normal, data }, m.wanted);
          if (!m.wanted && out.kind !== 'none') return false;
        }
      }
      for (const m of machines) m.sm.persistSnapshot();
      const [a, b] = machines;
      const same =
        JSON.stringify(json(a!.sm.engine.records())) ===
          JSON.stringify(json(b!.sm.engine.records())) &&
        JSON.stringify(json(a!.store.records())) === JSON.stringify(json(b!.store.records()));
      for (const m of machines) m.db.close();
      return same;
    }),
    { numRuns: 60 },
  );
});

t.test('a wanted entry still answers, an unwanted one answers nothing', async (t) => {
  const db = openExclusiveDatabase(`${t.testdir()}/one.db`);
  t.teardown(() => db.close());
  const sm = new LimiterStateMachine(createLimiter(), new LimiterSnapshotStore(db), {
    snapshotEveryEntries: 1e9,
  });
  const allow = (ts: number, rule?: string): Uint8Array =>
    encodeCommand({ type: 'allow', ts, key: 'k', rule, limit: 5, windowMs: 1000 });
  const first = sm.apply({ index: 1, term: 1, type: EntryType.Normal, data: allow(T0) }, false);
  t.same(first, { kind: 'none' });
  const second = sm.apply({ index: 2, term: 1, type: EntryType.Normal, data: allow(T0 + 1) });
  t.match(second, { kind: 'result', result: { decision: { allowed: true, remaining: 3 } } });
  const refused = encodeCommand({ type: 'allow', ts: T0 + 2, key: 'k', rule: 'nope' });
  t.same(sm.apply({ index: 3, term: 1, type: EntryType.Normal, data: refused }, false), {
    kind: 'none',
  });
  t.match(sm.apply({ index: 4, term: 1, type: EntryType.Normal, data: refused }), {
    kind: 'error',
    error: { code: 'unknown_rule' },
  });
});
