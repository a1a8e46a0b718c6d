/** Liveness, readiness and Prometheus metrics. Answered locally by every node. */
import type { FastifyInstance } from 'fastify';
import { DrlError } from '../errors.js';
import type { RouteContext } from './context.js';
import { errorResponses, statusReply } from './schemas.js';

export function registerOpsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const status = { response: { 200: statusReply, ...errorResponses } };

  app.get('/healthz', { schema: status }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: status }, async () => {
    if (!ctx.service.ready()) throw new DrlError('unavailable', 'node not ready');
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    ctx.metrics.onScrape?.();
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
