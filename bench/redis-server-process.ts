/**
 * The benchmark's own Redis: installed from Debian if missing, started on a free loopback port
 * with an fsync-per-write AOF (`appendonly yes`, `appendfsync always`, no RDB) in a fresh dir
 * under bench/out/, and stopped by pid (through http-children's registry).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { spawnTracked, type Tracked } from './http-children.js';
import { freePort } from './http-ports.js';

export interface RedisProcess {
  tracked: Tracked;
  port: number;
  version: string;
  appendfsync: string;
}

const readyWaitMsMax = 10_000;
const installTimeoutMs = 5 * 60_000;

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export function ensureRedisInstalled(): void {
  if (hasRedisServer()) return;
  process.stdout.write('redis-server missing: apt-get install -y redis-server\n');
  const opts = { stdio: 'inherit', timeout: installTimeoutMs } as const;
  execFileSync('apt-get', ['update'], opts);
  execFileSync('apt-get', ['install', '-y', 'redis-server'], {
    ...opts,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!hasRedisServer()) throw new Error('redis-server still missing after apt-get install');
}

async function waitReady(port: number): Promise<Redis> {
  const deadline = Date.now() + readyWaitMsMax;
  for (;;) {
    const redis = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Refused connections while Redis starts are expected; connect() rejects with them anyway.
    redis.on('error', () => {});
    try {
      await redis.connect();
      await redis.ping();
      return redis;
    } catch (err) {
      redis.disconnect();
      if (Date.now() > deadline) throw new Error(`redis not ready: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startRedis(dir: string): Promise<RedisProcess> {
  ensureRedisInstalled();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir];
  args.push('--appendonly', 'yes', '--appendfsync', 'always', '--save', '');
  args.push('--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning');
  const tracked = spawnTracked('redis-server', 'redis-server', args);
  tracked.child.stdout?.resume();
  const client = await waitReady(port);
  try {
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const conf = (await client.config('GET', 'appendfsync')) as string[];
    return { tracked, port, version, appendfsync: conf[1] ?? 'unknown' };
  } finally {
    client.disconnect();
  }
}
