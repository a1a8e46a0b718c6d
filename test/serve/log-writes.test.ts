// `drl serve --log-writes` and `--log-store`: a group whose nodes make the Raft log durable three
// different ways (segment files with their fdatasync on the thread pool, SQLite from a writer
// thread, segment files synced on the event loop) decides as one, and after SIGKILL of every node restarts from disk with every
// acknowledged decision counted.
import t from 'tap';
import { Cluster } from './cluster-harness.js';

const FLAGS: Record<string, string[]> = {
  n1: ['--log-store', 'file', '--log-writes', 'pool'],
  n2: ['--log-store', 'sqlite', '--log-writes', 'worker'],
  n3: ['--log-store', 'file', '--log-writes', 'sync'],
};

t.test(
  'mixed log-write modes decide as one group and recover every acknowledged decision',
  async (t) => {
    const c = await Cluster.create({ extraArgs: (id) => FLAGS[id]! });
    t.teardown(() => c.stopAll());
    const allow = async (id: string) => {
      const r = await c.request(id, 'POST', '/allow', { key: 'k', limit: 6, windowMs: 600_000 });
      t.equal(r.status, 200);
      return r.body.allowed as boolean;
    };
    const leader = await c.waitLeader();
    const first: boolean[] = [];
    for (let i = 0; i < 4; i++) first.push(await allow(leader));
    t.same(first, [true, true, true, true]);

    for (const id of c.alive()) await c.kill(id, 'SIGKILL');
    for (const s of c.specs) c.start(s.id);
    const again = await c.waitLeader();
    const after: boolean[] = [];
    for (let i = 0; i < 4; i++) after.push(await allow(again));
    t.same(after, [true, true, false, false], 'the 4 acknowledged before the kill still count');
  },
);
