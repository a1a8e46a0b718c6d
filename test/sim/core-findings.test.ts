/**
 * Seeds that once exposed a core bug, pinned so a fix can be checked in a second
 * (docs/notes/raft-sim.md describes each). They must pass with a correct core.
 */
import t from 'tap';
import { defaultOptions } from './sim-options.js';
import { runSeed } from './simulation.js';
import { SimViolation } from './violation.js';

function outcome(seed: number): string {
  try {
    runSeed(defaultOptions(seed));
    return 'passed';
  } catch (err) {
    if (err instanceof SimViolation) return err.message;
    throw err;
  }
}

t.test('replication resumes after an App is lost while the inflight window is full', async (t) => {
  // maxInflightMsgs 1: a dropped App left the window full and nothing ever freed it. These
  // seeds fail on the core before 4987993 (replication frozen, "Liveness violated").
  for (const seed of [4, 12, 16]) t.equal(outcome(seed), 'passed', `seed ${seed}`);
});

t.test('no lease after an aborted leadership transfer (a delayed TimeoutNow)', async (t) => {
  // n3 leads term 2 and starts a transfer to n1 (t=550); its TimeoutNow (sent t=627) is
  // delayed 314 ms. The transfer times out, n3 regains a lease from heartbeat acks; then the
  // stale TimeoutNow makes n1 run a forced election that n2 grants despite n3's lease. n1 acks
  // write 71 while n3, cut off, still serves a lease read at index 69.
  t.equal(outcome(11698), 'passed', 'seed 11698');
});

t.test('liveness check: a catch-up after a leader change is progress', async (t) => {
  // One entry per App and one App in flight: n1, which had piled up ~1,000 uncommitted entries,
  // was a follower for term 36 (its long log counted as follower progress) and led again in
  // term 37; the checker's sum over roles then dropped by its log and the followers' steady
  // catch-up (410 -> 419 and on) looked like 5 s without progress. A checker bug, not the core's.
  t.equal(outcome(26229), 'passed', 'seed 26229');
});
