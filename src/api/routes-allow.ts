/**
 * POST /allow: the hot path. One service call, one decision, headers, no per-call log line.
 * A decision the service has at once (a lease-served denial) is answered synchronously: no
 * promise, no timeout timer; only a decision that waits for the log is bounded in time.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AllowTracer } from './allow-tracer.js';
import { checkBytes, type RouteContext } from './context.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';
import { allowBody, allowReply, errorResponses } from './schemas.js';
import type { AllowRequest, AllowResponse } from './service.js';

/** Diagnosis only: records an entry-decided answer and, once written, its write time. */
function traceAnswer(
  tracer: AllowTracer,
  reply: FastifyReply,
  index: number,
  enteredMs: number,
  decidedMs: number,
): void {
  tracer.decided(index, enteredMs, decidedMs);
  // 'prefinish': the body was handed to the socket (in end(), synchronously); 'finish' waits
  // for the write callback, which a busy loop delays past the client's receipt.
  reply.raw.once('prefinish', () => tracer.written(index, performance.now()));
}

export function registerAllowRoute(app: FastifyInstance, ctx: RouteContext): void {
  const { service, metrics, allowTracer } = ctx;
  const { tally, decisionDuration } = metrics;

  const answer = (
    reply: FastifyReply,
    body: AllowRequest,
    d: AllowResponse,
    startedMs: number,
  ): AllowResponse => {
    const decidedMs = performance.now();
    decisionDuration.observe((decidedMs - startedMs) / 1000);
    // A lease-served denial has no entry of its own (its index is the applied one).
    if (allowTracer !== null && d.leaseServed !== true) {
      traceAnswer(allowTracer, reply, d.index, startedMs, decidedMs);
    }
    const rule = body.rule ?? 'default';
    tally.decided(rule, d.allowed, d.leaseServed === true);
    setRateLimitHeaders(reply, rule, d);
    return d;
  };

  app.post<{ Body: AllowRequest }>(
    '/allow',
    { schema: { body: allowBody, response: { 200: allowReply, ...errorResponses } } },
    (request, reply) => {
      const body = request.body;
      checkBytes(body.key, 512, 'invalid_key', 'key');
      if (body.requestId !== undefined) {
        checkBytes(body.requestId, 128, 'invalid_request_id', 'requestId');
      }
      const startedMs = performance.now();
      const decided = service.allow(body);
      if (!(decided instanceof Promise)) return answer(reply, body, decided, startedMs);
      return ctx.bounded(decided, (d) => answer(reply, body, d, startedMs));
    },
  );
}
