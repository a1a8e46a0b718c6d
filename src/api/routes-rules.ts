/** Rules, per-key overrides and read-only usage. Mutations go through the replicated log. */
import type { FastifyInstance } from 'fastify';
import { DrlError } from '../errors.js';
import type { OverrideSpec, RuleSpec } from '../limiter/types.js';
import { checkBytes, type RouteContext } from './context.js';
import {
  errorResponses,
  keyParams,
  okBody,
  overrideBody,
  overrideParams,
  ruleParams,
  ruleReply,
  ruleSpecBody,
  rulesReply,
  usageQuery,
  usageReply,
} from './schemas.js';

export function registerRuleRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { service } = ctx;
  const ok = { 200: okBody, ...errorResponses };

  app.get('/rules', { schema: { response: { 200: rulesReply, ...errorResponses } } }, async () => ({
    rules: await ctx.bounded(service.listRules()),
  }));

  app.get<{ Params: { name: string } }>(
    '/rules/:name',
    { schema: { params: ruleParams, response: { 200: ruleReply, ...errorResponses } } },
    async (request) => {
      const { name } = request.params;
      const rules = await ctx.bounded(service.listRules());
      const spec = Object.hasOwn(rules, name) ? rules[name] : undefined;
      if (spec === undefined) throw new DrlError('not_found', `no rule named ${name}`);
      return { name, ...spec };
    },
  );

  app.put<{ Params: { name: string }; Body: RuleSpec }>(
    '/rules/:name',
    { schema: { params: ruleParams, body: ruleSpecBody, response: ok } },
    async (request) => {
      const r = await ctx.bounded(service.setRule(request.params.name, request.body));
      return { ok: true, index: r.index };
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/rules/:name',
    { schema: { params: ruleParams, response: ok } },
    async (request) => {
      const r = await ctx.bounded(service.deleteRule(request.params.name));
      return { ok: true, index: r.index };
    },
  );

  app.put<{ Params: { name: string; key: string }; Body: OverrideSpec }>(
    '/rules/:name/keys/:key',
    { schema: { params: overrideParams, body: overrideBody, response: ok } },
    async (request) => {
      const { name, key } = request.params;
      checkBytes(key, 512, 'invalid_key', 'key');
      const r = await ctx.bounded(service.setOverride(name, key, request.body));
      return { ok: true, index: r.index };
    },
  );

  app.delete<{ Params: { name: string; key: string } }>(
    '/rules/:name/keys/:key',
    { schema: { params: overrideParams, response: ok } },
    async (request) => {
      const { name, key } = request.params;
      checkBytes(key, 512, 'invalid_key', 'key');
      const r = await ctx.bounded(service.deleteOverride(name, key));
      return { ok: true, index: r.index };
    },
  );

  app.get<{
    Params: { rule: string; key: string };
    Querystring: { limit?: string; windowMs?: string };
  }>(
    '/keys/:rule/:key',
    {
      schema: {
        params: keyParams,
        querystring: usageQuery,
        response: { 200: usageReply, ...errorResponses },
      },
    },
    async (request) => {
      const { rule, key } = request.params;
      checkBytes(key, 512, 'invalid_key', 'key');
      const { limit, windowMs } = request.query;
      const inline =
        limit === undefined || windowMs === undefined
          ? undefined
          : { limit: Number(limit), windowMs: Number(windowMs) };
      return ctx.bounded(service.usage(rule, key, inline));
    },
  );
}
