/** Cluster status (this node's own view, never forwarded) and membership / leadership changes. */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';
import {
  clusterReply,
  errorResponses,
  memberBody,
  memberParams,
  okBody,
  transferBody,
} from './schemas.js';
import type { MemberInfo } from './service.js';

const transferReply = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, leader: { type: 'string' } },
  required: ['ok', 'leader'],
} as const;

export function registerClusterRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { service } = ctx;
  const ok = { 200: okBody, ...errorResponses };

  app.get(
    '/cluster',
    { schema: { response: { 200: clusterReply, ...errorResponses } } },
    async () => service.cluster(),
  );

  app.post<{ Body: MemberInfo }>(
    '/cluster/members',
    { schema: { body: memberBody, response: ok } },
    async (request) => {
      const r = await ctx.bounded(service.addMember(request.body));
      return { ok: true, index: r.index };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/cluster/members/:id',
    { schema: { params: memberParams, response: ok } },
    async (request) => {
      const r = await ctx.bounded(service.removeMember(request.params.id));
      return { ok: true, index: r.index };
    },
  );

  app.post<{ Body: { to: string } }>(
    '/cluster/leader',
    { schema: { body: transferBody, response: { 200: transferReply, ...errorResponses } } },
    async (request) => {
      await ctx.bounded(service.transferLeader(request.body.to));
      return { ok: true, leader: request.body.to };
    },
  );
}
