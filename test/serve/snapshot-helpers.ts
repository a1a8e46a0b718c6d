/**
 * Shared set-up of the snapshot tests: a 3-node group with small snapshots and a short log tail,
 * a workload with a hot key, the limiter's applied index on disk, and an agreement check that
 * makes a node leader and reads its windows through it.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { Cluster } from './cluster-harness.js';
import { load, used } from './load-helpers.js';

export const hotLimit = 40;
// Snapshots every 100 entries and a log tail of 100: a few hundred entries put a stopped
// follower behind the compaction point. ENTRIES=100000 runs the figure (slow here:
// see docs/notes/snapshots.md).
export const entries = Number(process.env.ENTRIES ?? 600);
/** Clients in flight while the follower is down (CONCURRENCY=128 for the big runs). */
export const concurrency = Number(process.env.CONCURRENCY ?? 16);

export async function setUp(
  t: Test,
  extra: string[] = [],
): Promise<{ c: Cluster; leader: string }> {
  const c = await Cluster.create({
    extraArgs: () => [
      '--snapshot-every',
      '100',
      '--snapshot-tail',
      '100',
      '--log-level',
      'info',
      '--test-mode',
      ...extra,
    ],
  });
  t.teardown(() => c.stopAll());
  let leader = await c.waitLeader();
  await c.request(leader, 'PUT', '/rules/default', { limit: 1_000_000, windowMs: 3_600_000 });
  await c.request(leader, 'PUT', '/rules/hot', { limit: hotLimit, windowMs: 3_600_000 });
  leader = await c.waitLeader();
  return { c, leader };
}

export function appliedOnDisk(dataDir: string): number {
  const db = new Database(join(dataDir, 'limiter-state.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM limiter_store WHERE name = 'applied_index'").get() as
      | { value: number }
      | undefined;
    return row?.value ?? 0;
  } finally {
    db.close();
  }
}

/** Drives the group while `lagging` is down: `entries` decisions, hotLimit + 20 on the hot key. */
export async function applyWhileDown(c: Cluster) {
  return load(c, entries, concurrency, (i) =>
    i % 10 === 0 && i / 10 < hotLimit + 20 ? { key: 'hot', rule: 'hot' } : { key: `k${i % 300}` },
  );
}

/** Leadership to `id`, then reads through it: its own state answers. */
export async function agreesAsLeader(
  t: Test,
  c: Cluster,
  id: string,
  granted: Map<string, number>,
) {
  // A node just caught up may miss the first transfer's election timeout: retry a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const leader = await c.waitLeader();
    if (leader === id) break;
    try {
      await c.request(leader, 'POST', '/cluster/leader', { to: id }, 5000);
    } catch {
      // the old leader may stop answering while it hands over
    }
  }
  t.equal(await c.waitLeader(10_000), id, `${id} leads`);
  t.equal(await used(c, 'hot', 'hot'), hotLimit, `${id}: the hot key holds exactly ${hotLimit}`);
  for (const key of ['k1', 'k7', 'k299']) {
    t.equal(
      await used(c, 'default', key),
      granted.get(`default/${key}`) ?? 0,
      `${id}: ${key} agrees`,
    );
  }
}
