import type { HistoryLine } from '../history/types.js';
import { buildHistory } from './history-builder.js';

/**
 * Hand-written histories with a known classification. limit 2, window 100 ms unless said.
 * Times: client µs; ts: server ms.
 */
export interface Fixture {
  name: string;
  lines: HistoryLine[];
  /** Which checker must object (bad) or that every checker passes (good). */
  expect: 'ok' | { linearizability?: 'fail'; witness?: 'fail'; admission?: 'fail' };
}

export const badFixtures: Fixture[] = [
  {
    // C starts after A and B were granted, yet is granted as if B did not exist (a follower
    // deciding on stale state).
    name: 'stale read',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 1, inv: 200, done: 300, allowed: true, remaining: 0, ts: 20, index: 2 },
      { p: 2, inv: 400, done: 500, allowed: true, remaining: 0, ts: 30, index: 2 },
    ]),
    expect: { linearizability: 'fail', witness: 'fail', admission: 'fail' },
  },
  {
    // A was acknowledged, then forgotten (say across a restart): B and C count without it.
    name: 'lost write',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 1, inv: 200, done: 300, allowed: true, remaining: 1, ts: 20, index: 1 },
      { p: 2, inv: 400, done: 500, allowed: true, remaining: 0, ts: 30, index: 2 },
    ]),
    expect: { linearizability: 'fail', witness: 'fail', admission: 'fail' },
  },
  {
    // A fixed window reset at ts 100: four grants within (10, 110].
    name: 'over-admission at a fixed-window boundary',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, allowed: true, remaining: 1, ts: 90, index: 1 },
      { p: 0, inv: 200, done: 300, allowed: true, remaining: 0, ts: 95, index: 2 },
      { p: 0, inv: 400, done: 500, allowed: true, remaining: 1, ts: 105, index: 3 },
      { p: 0, inv: 600, done: 700, allowed: true, remaining: 0, ts: 110, index: 4 },
    ]),
    expect: { linearizability: 'fail', witness: 'fail', admission: 'fail' },
  },
  {
    // The retry of q1 got a fresh decision instead of the first one.
    name: 'retried request counted twice',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, requestId: 'q1', allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 1, inv: 200, done: 300, requestId: 'q1', allowed: true, remaining: 0, ts: 20, index: 2 },
    ]),
    expect: { admission: 'fail' },
  },
  {
    // B follows A in real time but is stamped earlier.
    name: 'ts going backwards',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, limit: 5, allowed: true, remaining: 4, ts: 100, index: 1 },
      { p: 1, inv: 200, done: 300, limit: 5, allowed: true, remaining: 3, ts: 90, index: 2 },
    ]),
    expect: { linearizability: 'fail', witness: 'fail' },
  },
  {
    // B's answer counts a grant that only the indeterminate A could be, but A was invoked
    // after B returned.
    name: 'indeterminate op counted before it was invoked',
    lines: buildHistory([
      { p: 1, inv: 0, done: 100, allowed: true, remaining: 0, ts: 10, index: 2 },
      { p: 0, inv: 200, done: 300, info: true },
    ]),
    expect: { linearizability: 'fail', witness: 'fail' },
  },
  {
    // Limit 3. Only the indeterminate A (after D, so ts(A) >= 0) explains B's remaining 0, and
    // A is still in the window at 50, so C cannot be granted.
    name: 'indeterminate op must have happened but the answers disagree',
    lines: buildHistory([
      { p: 4, inv: 0, done: 20, limit: 3, allowed: true, remaining: 2, ts: 0, index: 1 },
      { p: 0, inv: 30, done: 50, limit: 3, info: true },
      { p: 1, inv: 100, done: 200, limit: 3, allowed: true, remaining: 0, ts: 10, index: 3 },
      { p: 2, inv: 300, done: 400, limit: 3, allowed: true, remaining: 0, ts: 50, index: 4 },
    ]),
    expect: { linearizability: 'fail', witness: 'fail' },
  },
];

export const goodFixtures: Fixture[] = [
  {
    // B was invoked after A but linearized first (ts 40 < 50): they overlap.
    name: 'concurrent ops ordered by their ts',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, allowed: true, remaining: 0, ts: 50, index: 2 },
      { p: 1, inv: 10, done: 90, allowed: true, remaining: 1, ts: 40, index: 1 },
      { p: 2, inv: 200, done: 300, allowed: false, remaining: 0, ts: 60, index: 2 },
    ]),
    expect: 'ok',
  },
  {
    name: 'indeterminate op that must have happened',
    lines: buildHistory([
      { p: 0, inv: 0, done: 50, info: true },
      { p: 1, inv: 100, done: 200, allowed: true, remaining: 0, ts: 10, index: 2 },
      { p: 2, inv: 300, done: 400, allowed: false, remaining: 0, ts: 20, index: 2 },
    ]),
    expect: 'ok',
  },
  {
    name: 'indeterminate op that did not happen',
    lines: buildHistory([
      { p: 0, inv: 0, done: 50, info: true },
      { p: 1, inv: 100, done: 200, allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 2, inv: 300, done: 400, allowed: true, remaining: 0, ts: 20, index: 2 },
    ]),
    expect: 'ok',
  },
  {
    // A's unknown ts must lie in (-5, 5]: counted at 10 and 95, expired at 105.
    name: 'indeterminate op placed between window boundaries',
    lines: buildHistory([
      { p: 0, inv: 0, done: 50, info: true },
      { p: 1, inv: 100, done: 200, allowed: true, remaining: 0, ts: 10, index: 2 },
      { p: 2, inv: 300, done: 400, allowed: false, remaining: 0, ts: 95, index: 2 },
      { p: 3, inv: 500, done: 600, allowed: true, remaining: 0, ts: 105, index: 3 },
    ]),
    expect: 'ok',
  },
  {
    // q1's first attempt timed out; the retry returns the first decision.
    name: 'retry returns the first decision',
    lines: buildHistory([
      { p: 0, inv: 0, done: 50, requestId: 'q1', info: true },
      { p: 1, inv: 100, done: 200, requestId: 'q1', allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 2, inv: 300, done: 400, requestId: 'q1', allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 3, inv: 500, done: 600, allowed: true, remaining: 0, ts: 20, index: 2 },
    ]),
    expect: 'ok',
  },
  {
    // A lease-served denial reads at the applied index 2 while entry 3 (ts 30) commits.
    name: 'lease-served denial at the applied index',
    lines: buildHistory([
      { p: 0, inv: 0, done: 100, allowed: true, remaining: 1, ts: 10, index: 1 },
      { p: 1, inv: 200, done: 300, allowed: true, remaining: 0, ts: 20, index: 2 },
      { p: 2, inv: 400, done: 600, allowed: false, remaining: 0, ts: 35, index: 2 },
      { p: 3, inv: 410, done: 700, allowed: false, remaining: 0, ts: 30, index: 3 },
      { p: 4, inv: 800, done: 900, allowed: false, remaining: 0, ts: 40, index: 3 },
    ]),
    expect: 'ok',
  },
  {
    name: 'failed ops take no effect',
    lines: buildHistory([
      { p: 0, inv: 0, done: 50, fail: true },
      { p: 1, inv: 100, done: 200, allowed: true, remaining: 1, ts: 10, index: 1 },
    ]),
    expect: 'ok',
  },
];
