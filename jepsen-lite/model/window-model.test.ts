import t from 'tap';
import {
  initialState,
  type ModelState,
  stateKey,
  stepAnswered,
  stepIndeterminate,
} from './window-model.js';

const op = { limit: 2, windowMs: 10, cost: 1 };

function grant(s: ModelState, ts: number, remaining: number): ModelState {
  const next = stepAnswered(s, op, { allowed: true, remaining, ts });
  if (next.length !== 1) throw new Error(`expected one state, got ${next.length}`);
  return next[0]!;
}

t.test('the sliding window counts grants in (ts - W, ts]', async (t) => {
  let s = grant(initialState, 0, 1);
  s = grant(s, 5, 0);
  t.same(stepAnswered(s, op, { allowed: true, remaining: 0, ts: 9 }), [], 'full at 9');
  t.equal(stepAnswered(s, op, { allowed: false, remaining: 0, ts: 9 }).length, 1, 'denied at 9');
  t.equal(
    stepAnswered(s, op, { allowed: true, remaining: 0, ts: 10 }).length,
    1,
    'the grant at 0 left at 10',
  );
  t.same(stepAnswered(s, op, { allowed: true, remaining: 1, ts: 10 }), [], 'remaining must match');
});

t.test('ts never goes back for grants; denials do not advance it', async (t) => {
  const s = grant(initialState, 20, 1);
  t.same(stepAnswered(s, op, { allowed: true, remaining: 0, ts: 19 }), []);
  const denied = stepAnswered(s, { ...op, cost: 5 }, { allowed: false, remaining: 1, ts: 25 })[0]!;
  t.equal(denied.lastTs, 20, 'a denial may be lease-served ahead of pending entries');
});

t.test('an indeterminate grant keeps an interval that later answers narrow', async (t) => {
  const s = grant(initialState, 0, 1);
  const withInfo = stepIndeterminate(s, op, 100);
  t.equal(withInfo.length, 1);
  t.match(stateKey(withInfo[0]!), /\|0,i,1,10/, 'lo = last ts, hi open');
  // At 12 the grant at 0 is gone; a remaining of 0 needs the indeterminate one counted.
  const counted = stepAnswered(withInfo[0]!, op, { allowed: true, remaining: 0, ts: 12 });
  t.equal(counted.length, 1);
  t.match(stateKey(counted[0]!), /\|-9,0,1,10/, 'narrowed to (2, 12]');
  const notCounted = stepAnswered(withInfo[0]!, op, { allowed: true, remaining: 1, ts: 12 });
  t.equal(notCounted.length, 1, 'or not counted: ts <= 2');
  t.same(stepIndeterminate(s, op, -1), [], 'a grant after every answer is unobservable');
  t.same(stepIndeterminate(s, { ...op, cost: 3 }, 100), [], 'cost over the limit never fits');
});
