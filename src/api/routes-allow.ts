/** POST /allow: the hot path. One service call, one decision, headers, no per-call log line. */
import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import { checkBytes, type RouteContext } from './context.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';
import { allowBody, allowReply, errorResponses } from './schemas.js';
import type { AllowRequest } from './service.js';

type Outcomes = { allowed: ReturnType<Counter['labels']>; denied: ReturnType<Counter['labels']> };
const ruleCountersMax = 1024;

export function registerAllowRoute(app: FastifyInstance, ctx: RouteContext): void {
  const { service, metrics } = ctx;
  // Labelled children cached per rule so a decision does not build a label object.
  const byRule = new Map<string, Outcomes>();
  const outcomesFor = (rule: string): Outcomes => {
    let o = byRule.get(rule);
    if (o === undefined) {
      if (byRule.size >= ruleCountersMax) byRule.clear();
      o = {
        allowed: metrics.decisions.labels('allowed', rule),
        denied: metrics.decisions.labels('denied', rule),
      };
      byRule.set(rule, o);
    }
    return o;
  };

  app.post<{ Body: AllowRequest }>(
    '/allow',
    { schema: { body: allowBody, response: { 200: allowReply, ...errorResponses } } },
    async (request, reply) => {
      const body = request.body;
      checkBytes(body.key, 512, 'invalid_key', 'key');
      if (body.requestId !== undefined) {
        checkBytes(body.requestId, 128, 'invalid_request_id', 'requestId');
      }
      const startedMs = performance.now();
      const d = await ctx.bounded(service.allow(body));
      metrics.decisionDuration.observe((performance.now() - startedMs) / 1000);
      const rule = body.rule ?? 'default';
      const outcomes = outcomesFor(rule);
      (d.allowed ? outcomes.allowed : outcomes.denied).inc();
      if (d.leaseServed === true) metrics.leaseServed.inc();
      setRateLimitHeaders(reply, rule, d);
      return d;
    },
  );
}
