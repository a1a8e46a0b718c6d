/**
 * Benchmark baseline (child process): a fastify 5 `POST /allow` with the contract's schemas,
 * deciding with the exact sliding-window-log Lua script in Redis (redis-sliding-log.lua).
 * One ioredis client with auto-pipelining; the script runs by EVALSHA (ioredis defineCommand).
 * Inline limits only (no rule store) and requestId is accepted but not deduplicated: this is a
 * yardstick for the cost of one exact, durable decision, not a second product.
 * Env: REDIS_PORT (required), LIFETIME_MS (default 15 min). Prints `{ready, port}` when listening.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import {
  type AllowBody,
  type AllowDecision,
  allowRouteSchema,
  setRateLimitHeaders,
} from './http-allow-schema.js';
import { announceReady, exitWithParent } from './http-child-lifetime.js';

type ScriptReply = [number, number, number, number, number, number];

interface SlidingLogRedis extends Redis {
  slidingLogAllow(
    logKey: string,
    seqKey: string,
    limit: number,
    windowMs: number,
    cost: number,
  ): Promise<ScriptReply>;
}

const seqKey = 'drl-bench:seq';
const redisPort = Number(process.env.REDIS_PORT);
const lifetimeMs = Number(process.env.LIFETIME_MS ?? 15 * 60_000);

function createRedis(): SlidingLogRedis {
  const redis = new Redis({
    host: '127.0.0.1',
    port: redisPort,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  const lua = readFileSync(new URL('./redis-sliding-log.lua', import.meta.url), 'utf8');
  redis.defineCommand('slidingLogAllow', { numberOfKeys: 2, lua });
  // Failed commands already answer 503; one stderr line per outage is enough to explain them.
  let reported = false;
  redis.on('error', (err: Error) => {
    if (!reported) process.stderr.write(`redis-allow-service: ${err.message}\n`);
    reported = true;
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis as SlidingLogRedis;
}

function toDecision(r: ScriptReply, limit: number): AllowDecision {
  return {
    allowed: r[0] === 1,
    limit,
    remaining: r[1],
    resetMs: r[2],
    retryAfterMs: r[3] < 0 ? null : r[3],
    index: r[4],
    ts: r[5],
  };
}

async function main(): Promise<void> {
  if (!Number.isInteger(redisPort) || redisPort <= 0) throw new Error('REDIS_PORT is required');
  const redis = createRedis();
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  app.post<{ Body: AllowBody }>('/allow', { schema: allowRouteSchema }, async (req, reply) => {
    const { key, rule = 'default', limit, windowMs, cost = 1 } = req.body;
    if (limit === undefined || windowMs === undefined) {
      const inlineHalf = limit !== undefined || windowMs !== undefined;
      reply.code(400);
      return inlineHalf
        ? { error: 'invalid_limit', message: 'limit and windowMs go together' }
        : {
            error: 'unknown_rule',
            message: `no rule "${rule}" (this baseline takes inline limits)`,
          };
    }
    try {
      const r = await redis.slidingLogAllow(`rl:${rule}:${key}`, seqKey, limit, windowMs, cost);
      const d = toDecision(r, limit);
      setRateLimitHeaders(reply, d, windowMs);
      return d;
    } catch (err) {
      reply.code(503).header('Retry-After', 1);
      return { error: 'unavailable', message: `redis: ${(err as Error).message}` };
    }
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  exitWithParent(lifetimeMs, async () => {
    await app.close();
    redis.disconnect();
  });
  announceReady(Number(new URL(address).port));
}

main().catch((err: unknown) => {
  process.stderr.write(`redis-allow-service: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
