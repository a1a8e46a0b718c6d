// Cheap invariants the core asserts in code (it throws instead of going on corrupt).
import t from 'tap';
import { createRaftCore } from '../../src/raft/core/index.js';
import { RaftLog } from '../../src/raft/core/raft-log.js';
import { type Entry, EntryType } from '../../src/raft/types.js';
import { baseConfig, diskWithLog, Network } from './helpers/network.js';

function e(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}

function logOf(terms: number[], commit: number): RaftLog {
  return RaftLog.load(diskWithLog(terms, terms.at(-1) ?? 0, commit), undefined);
}

t.test('commit never moves back and never passes the last index', async (t) => {
  const log = logOf([1, 1, 2], 2);
  t.notOk(log.commitTo(1), 'a lower commit is ignored');
  t.equal(log.committed, 2);
  t.throws(() => log.commitTo(4), /beyond last index/);
});

t.test('applied never passes committed', async (t) => {
  const log = logOf([1, 1, 2], 2);
  log.appliedTo(2);
  t.throws(() => log.appliedTo(3), /applied 3 > committed 2/);
});

t.test('a leader never overwrites its own log; nobody overwrites committed entries', async (t) => {
  const log = logOf([1, 1, 2], 1);
  t.throws(() => log.append([e(3, 3)], false), /never overwrites/);
  t.throws(() => log.append([e(1, 3)], true), /overwrite committed/);
  t.throws(() => log.append([e(5, 3)], true), /gap/);
  t.equal(log.append([e(3, 3)], true), 3, 'a follower truncates from the conflict');
});

t.test('term never decreases and the vote never changes within a term', async (t) => {
  const net = new Network(['a', 'b', 'c']);
  const core = net.core('a') as unknown as { setTerm(n: number): void; setVote(id: string): void };
  core.setTerm(5);
  t.throws(() => core.setTerm(4), /term 5 -> 4/);
  core.setVote('b');
  t.doesNotThrow(() => core.setVote('b'), 'the same vote again is fine');
  t.throws(() => core.setVote('c'), /vote changed within term/);
});

t.test('Ready protocol: advance only after ready, ready only after advance', async (t) => {
  const net = new Network(['a']);
  const a = net.core('a');
  const rd = a.ready();
  t.throws(() => a.ready(), /before advance/);
  a.advance(rd);
  t.throws(() => a.advance(rd), /without ready/);
});

t.test('a recovered log whose commit exceeds its last index is refused as corrupt', async (t) => {
  t.throws(() => logOf([1, 1], 3), { code: 'storage_corrupt' });
});

// Regression (sim seed 269): with applyDurableFirst a state machine applies committed entries
// before the Ready carrying their commit index is persisted, and commit-only changes are not
// written at all; a restart then finds applied > hardState.commit.
t.test('a restart raises the commit index to the state machine applied index', async (t) => {
  const log = RaftLog.load(diskWithLog([1, 1, 2, 2], 2, 1), 3);
  t.equal(log.committed, 3, 'commit raised from the hard state 1 to applied 3');
  t.equal(log.applied, 3, 'applied is not clamped down to the stale commit');
  t.same(log.committedToEmit(100), [], 'nothing the state machine holds is emitted again');
  const core = createRaftCore(
    baseConfig('a', ['a', 'b', 'c'], { applied: 3 }),
    diskWithLog([1, 1, 2, 2], 2, 1),
    { randomInt: () => 0, nowMs: () => 0 },
  );
  t.equal(core.commitIndex(), 3);
  t.equal(core.status().applied, 3);
  const rd = core.ready();
  t.same(rd.committedEntries, [], 'no re-emitted committed entries after the restart');
  core.advance(rd);
  t.equal(RaftLog.load(diskWithLog([1, 1], 2, 0), 2).committed, 2, 'up to the last index');
});

t.test(
  'a state machine ahead of the log (the log lost entries) is refused at restart',
  async (t) => {
    // Before, applied was clamped to the last index: the leader would have sent the lost entries
    // again and the state machine applied them twice (seen in jepsen-lite with the test bug
    // ack-before-fsync: a limiter snapshot taken in the held second, then kill -9 of all nodes).
    t.throws(() => RaftLog.load(diskWithLog([1, 1], 2, 0), 5), {
      code: 'storage_corrupt',
      message: /applied entry 5 but the Raft log ends at 2/,
    });
  },
);
