/**
 * The three things the HTTP benchmark measures, each started just before its runs and stopped
 * right after, so an idle target never takes CPU from the one being measured.
 */
import { join } from 'node:path';
import { firstJsonLine, spawnTsx, stop, type Tracked } from './http-children.js';
import { attachDrl, startDrl } from './http-drl-target.js';
import type { TargetName } from './http-report.js';
import { type RedisProcess, startRedis } from './redis-server-process.js';

export type Target =
  | { available: true; url: string; pids: number[]; notes: string; stop: () => Promise<void> }
  | { available: false; reason: string };

const serviceReadyWaitMsMax = 20_000;

async function startService(name: string, file: string, env: NodeJS.ProcessEnv) {
  const t = spawnTsx(name, file, [], env);
  const ready = await firstJsonLine<{ port: number }>(t, serviceReadyWaitMsMax);
  t.child.stdout?.resume();
  return { tracked: t, url: `http://127.0.0.1:${ready.port}` };
}

function pidsOf(...tracked: Tracked[]): number[] {
  return tracked.map((t) => t.child.pid).filter((p): p is number => p !== undefined);
}

async function startBare(): Promise<Target> {
  const svc = await startService('bare service', './http-bare-service.ts', {});
  return {
    available: true,
    url: svc.url,
    pids: pidsOf(svc.tracked),
    notes: 'constant decision',
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
    const target: Target = {
      available: true,
      url: svc.url,
      pids: pidsOf(svc.tracked, redis.tracked),
      notes: `redis ${redis.version}, appendfsync ${redis.appendfsync}`,
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

async function startDrlTarget(dirs: TargetDirs): Promise<Target> {
  const drl = dirs.drlEndpoints
    ? await attachDrl(dirs.drlEndpoints)
    : await startDrl(dirs.repoRoot, join(dirs.outDir, 'drl-data'));
  if (!drl.available) return drl;
  const pid = drl.tracked?.child.pid;
  return {
    available: true,
    url: drl.url,
    pids: pid === undefined ? [] : [pid],
    notes: `leader ${drl.leader} at ${drl.url}`,
    stop: drl.stop,
  };
}

export interface TargetDirs {
  repoRoot: string;
  outDir: string;
  /** Benchmark this running group instead of starting `drl dev`. */
  drlEndpoints?: string[] | undefined;
}

export async function startTarget(
  name: TargetName,
  dirs: TargetDirs,
  onRedis: (r: RedisProcess) => void,
): Promise<Target> {
  if (name === 'bare') return startBare();
  if (name === 'redis') return startRedisTarget(dirs.outDir, onRedis);
  try {
    return await startDrlTarget(dirs);
  } catch (err) {
    return { available: false, reason: (err as Error).message };
  }
}
