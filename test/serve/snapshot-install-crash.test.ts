// Issue 6: a crash in the middle of a snapshot install (DRL_TEST_CRASH_IN_RESTORE, --test-mode:
// SIGKILL after 50 records of the new state) leaves the old limiter state on disk and the
// received snapshot staged; the restart completes the install and the node agrees.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { until, view } from './load-helpers.js';
import { agreesAsLeader, appliedOnDisk, applyWhileDown, setUp } from './snapshot-helpers.js';

t.test(
  'a crash in the middle of a snapshot install keeps the old state; a restart completes it',
  async (t) => {
    const { c, leader } = await setUp(t);
    const lagging = c.specs.map((s) => s.id).find((id) => id !== leader)!;
    const dataDir = c.spec(lagging).data;
    await c.kill(lagging, 'SIGKILL');
    const before = appliedOnDisk(dataDir);
    const { granted } = await applyWhileDown(c);
    c.start(lagging, false, { DRL_TEST_CRASH_IN_RESTORE: '50' });
    const how = await c.exited(lagging, 30_000);
    t.equal(how, 'SIGKILL', 'the node died inside the install');
    t.equal(appliedOnDisk(dataDir), before, 'the limiter state on disk is the old one');
    t.ok(existsSync(join(dataDir, 'snapshot-staged.bin')), 'the received snapshot is staged');
    const target = (await view(c, await c.waitLeader()))!.commitIndex;
    c.start(lagging);
    const caughtUp = await until(
      async () => ((await view(c, lagging))?.appliedIndex ?? 0) >= target,
      30_000,
    );
    t.ok(caughtUp, `${lagging} caught up after the restart\n${caughtUp ? '' : c.dumpLogs()}`);
    t.ok(
      c.logged(lagging, 'raft: completing an interrupted snapshot install'),
      'the restart finished the staged install',
    );
    t.notOk(existsSync(join(dataDir, 'snapshot-staged.bin')), 'the staged copy is gone');
    await agreesAsLeader(t, c, lagging, granted);
  },
);
