/**
 * The things the HTTP benchmark measures. All are started once; between its turns each target
 * is parked with SIGSTOP (its whole process tree: Redis with its service, drl dev with its three
 * nodes), so an idle target takes no CPU from the one being measured (a drl group alone burns
 * CPU on heartbeats). `resume` continues it and, for drl, finds the leader again.
 */
import { join } from 'node:path';
import {
  descendantWithId,
  firstJsonLine,
  signalTree,
  spawnTsx,
  stop,
  type Tracked,
} from './http-children.js';
import { attachDrl, type DrlTarget, findLeader, startDrl } from './http-drl-target.js';
import type { TargetName } from './http-report.js';
import { type RedisProcess, startRedis } from './redis-server-process.js';

export interface LiveTarget {
  available: true;
  name: TargetName;
  url: string;
  /** Roots of the target's process trees (empty for an attached group). */
  rootPids: number[];
  notes: string;
  resume: () => Promise<void>;
  pause: () => void;
  /** drl: the leader's and one follower's pid, for CPU per decision by role. */
  roles?: () => { leader?: number | undefined; follower?: number | undefined };
  /** drl: the leader's and one follower's HTTP host:port, for their /metrics. */
  metricsHosts?: () => { leader?: string | undefined; follower?: string | undefined };
  /** drl started with --trace: every node's id and HTTP host:port, and the leader's id. */
  traced?: () => { leader: string; nodes: { id: string; http: string; pid?: number }[] };
  stop: () => Promise<void>;
}

export type Target = LiveTarget | { available: false; name: TargetName; reason: string };

const serviceReadyWaitMsMax = 20_000;
/**
 * After a SIGCONT the nodes' timers fire late and a follower may start an election (its last
 * heartbeat is seconds old); waiting longer than the election timeout (200-400 ms) lets that
 * settle before the leader is looked up.
 */
const drlSettleMs = 600;

async function startService(name: string, file: string, env: NodeJS.ProcessEnv) {
  const t = spawnTsx(name, file, [], env);
  const ready = await firstJsonLine<{ port: number }>(t, serviceReadyWaitMsMax);
  t.child.stdout?.resume();
  return { tracked: t, url: `http://127.0.0.1:${ready.port}` };
}

function pidsOf(...tracked: Tracked[]): number[] {
  return tracked.map((t) => t.child.pid).filter((p): p is number => p !== undefined);
}

function parking(rootPids: number[]) {
  return {
    pause: () => {
      for (const p of rootPids) signalTree(p, 'SIGSTOP');
    },
    resume: async () => {
      for (const p of rootPids) signalTree(p, 'SIGCONT');
    },
  };
}

async function startBare(): Promise<Target> {
  const svc = await startService('bare service', './http-bare-service.ts', {});
  const rootPids = pidsOf(svc.tracked);
  return {
    available: true,
    name: 'bare',
    url: svc.url,
    rootPids,
    notes: 'constant decision',
    ...parking(rootPids),
    stop: () => stop(svc.tracked),
  };
}

async function startRedisTarget(outDir: string, onRedis: (r: RedisProcess) => void) {
  const redis = await startRedis(join(outDir, 'redis-data'));
  onRedis(redis);
  try {
    const svc = await startService('redis service', './redis-allow-service.ts', {
      REDIS_PORT: String(redis.port),
    });
    const rootPids = pidsOf(svc.tracked, redis.tracked);
    const target: Target = {
      available: true,
      name: 'redis',
      url: svc.url,
      rootPids,
      notes: `redis ${redis.version}, appendfsync ${redis.appendfsync}`,
      ...parking(rootPids),
      stop: async () => {
        await stop(svc.tracked);
        await stop(redis.tracked);
      },
    };
    return target;
  } catch (err) {
    await stop(redis.tracked);
    throw err;
  }
}

function liveDrl(
  name: TargetName,
  drl: Extract<DrlTarget, { available: true }>,
  traced: boolean,
): LiveTarget {
  const root = drl.tracked?.child.pid;
  const rootPids = root === undefined ? [] : [root];
  const park = parking(rootPids);
  const target: LiveTarget = {
    available: true,
    name,
    url: drl.url,
    rootPids,
    notes: `leader ${drl.leader} at ${drl.url}`,
    pause: park.pause,
    resume: async () => {
      if (rootPids.length === 0) return; // an attached group was never parked
      await park.resume();
      await new Promise((r) => setTimeout(r, drlSettleMs));
      const leader = await findLeader(drl.https);
      if (leader) {
        drl.leader = leader.id;
        target.url = `http://${leader.http}`;
      }
    },
    roles: () => {
      if (root === undefined) return {};
      const ids = drl.https.map((_, i) => `n${i + 1}`);
      const follower = ids.find((id) => id !== drl.leader);
      return {
        leader: descendantWithId(root, drl.leader),
        follower: follower === undefined ? undefined : descendantWithId(root, follower),
      };
    },
    metricsHosts: () => {
      const at = drl.https.findIndex((_, i) => `n${i + 1}` !== drl.leader);
      return { leader: new URL(target.url).host, follower: drl.https[at] };
    },
    stop: drl.stop,
  };
  if (traced) {
    target.traced = () => ({
      leader: drl.leader,
      nodes: drl.https.map((http, i) => {
        const id = `n${i + 1}`;
        const pid = root === undefined ? undefined : descendantWithId(root, id);
        return pid === undefined ? { id, http } : { id, http, pid };
      }),
    });
  }
  return target;
}

export interface TargetDirs {
  repoRoot: string;
  outDir: string;
  /** Benchmark this running group instead of starting `drl dev`. */
  drlEndpoints?: string[] | undefined;
  /** The checkout built as the `base` target. */
  drlBase?: string | undefined;
  cpuProfDir?: string | undefined;
  /** The drl target's nodes record per-entry stages (not the base build's, nor an attached group's). */
  drlTrace?: boolean;
  /** Extra `drl serve` flags per started target (`--drl-serve-args`, `--base-serve-args`). */
  serveArgs?: { drl: string[]; base: string[] };
}

async function startDrlTarget(name: 'drl' | 'base', dirs: TargetDirs): Promise<Target> {
  const root = name === 'base' ? dirs.drlBase : dirs.repoRoot;
  if (root === undefined) return { available: false, name, reason: 'no --drl-base' };
  const traced = name === 'drl' && dirs.drlTrace === true && !dirs.drlEndpoints;
  const drl =
    name === 'drl' && dirs.drlEndpoints
      ? await attachDrl(dirs.drlEndpoints)
      : await startDrl({
          root,
          dataDir: join(dirs.outDir, `${name}-data`),
          cpuProfDir: dirs.cpuProfDir && join(dirs.cpuProfDir, name),
          serveArgs: [
            ...(traced ? ['--test-mode', '--trace-entries'] : []),
            ...(dirs.serveArgs?.[name] ?? []),
          ],
        });
  if (!drl.available) return { available: false, name, reason: drl.reason };
  return liveDrl(name, drl, traced);
}

export async function startTarget(
  name: TargetName,
  dirs: TargetDirs,
  onRedis: (r: RedisProcess) => void,
): Promise<Target> {
  try {
    if (name === 'bare') return await startBare();
    if (name === 'redis') return await startRedisTarget(dirs.outDir, onRedis);
    return await startDrlTarget(name, dirs);
  } catch (err) {
    return { available: false, name, reason: (err as Error).message };
  }
}
