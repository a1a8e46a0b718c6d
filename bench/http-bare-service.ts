/**
 * Benchmark ceiling (child process): the same fastify 5 `POST /allow` route, schemas and headers
 * as the Redis baseline, answering a constant decision, so its rate is what this machine's HTTP
 * stack and load generator allow before any limiter work. Prints `{ready, port}` when listening.
 */
import Fastify from 'fastify';
import {
  type AllowBody,
  type AllowDecision,
  allowRouteSchema,
  setRateLimitHeaders,
} from './http-allow-schema.js';
import { announceReady, exitWithParent } from './http-child-lifetime.js';

const lifetimeMs = Number(process.env.LIFETIME_MS ?? 15 * 60_000);

async function main(): Promise<void> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  app.post<{ Body: AllowBody }>('/allow', { schema: allowRouteSchema }, async (req, reply) => {
    const limit = req.body.limit ?? 1;
    const windowMs = req.body.windowMs ?? 1000;
    const d: AllowDecision = {
      allowed: true,
      limit,
      remaining: limit - 1,
      resetMs: windowMs,
      retryAfterMs: 0,
      index: 0,
      ts: 0,
    };
    setRateLimitHeaders(reply, d, windowMs);
    return d;
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  exitWithParent(lifetimeMs, () => app.close());
  announceReady(Number(new URL(address).port));
}

main().catch((err: unknown) => {
  process.stderr.write(`http-bare-service: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
