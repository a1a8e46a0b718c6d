/**
 * The HTTP API of one node: `buildApi(service, options)` returns a fastify instance with every
 * contract route, JSON schemas in and out, `{error, message}` errors with stable codes, bearer
 * auth, metrics, and transparent forwarding to the leader when the service says not-leader.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { DrlError } from '../errors.js';
import type { AllowTracer } from './allow-tracer.js';
import { bearerCheck } from './bearer-auth.js';
import { boundedBy, type RouteContext } from './context.js';
import { errorReplyFor } from './error-reply.js';
import { forwardedHeader, LeaderForwarder } from './leader-forwarder.js';
import { createMetrics, type DrlMetrics } from './metrics.js';
import { registerAllowRoute } from './routes-allow.js';
import { registerClusterRoutes } from './routes-cluster.js';
import { registerOpsRoutes } from './routes-ops.js';
import { registerRuleRoutes } from './routes-rules.js';
import { isNotLeaderError, type RateLimitService } from './service.js';

export const bodyLimitBytes = 16 * 1024;

export interface ApiOptions {
  /** When set, every route except the ops routes needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Also require the token on /healthz, /readyz and /metrics. Default false. */
  protectOps?: boolean;
  /** Bound on a service call, a forward included. Default 5000. */
  requestTimeoutMs?: number;
  /** Retry-After seconds on a 503. Default 1. */
  retryAfterSeconds?: number;
  /** Shared with the node so it can update the Raft/storage instruments. Default: a fresh set. */
  metrics?: DrlMetrics;
  /** fastify logger options (pino). Default: off. Ignored when loggerInstance is given. */
  logger?: boolean | Record<string, unknown>;
  loggerInstance?: FastifyBaseLogger;
  /** Connections kept alive to the leader for forwarding. Default 16. */
  forwardConnections?: number;
  /**
   * Serve HTTPS (node:tls) instead of plain HTTP. `ca` is also what the node trusts when it
   * forwards to the leader, which it then reaches over https.
   */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  /** Diagnosis: per-entry times of /allow answers (test mode only). Default none. */
  allowTracer?: AllowTracer;
}

/** Per-request logs are debug lines; pino's `level` is a plain string field. */
function debugEnabled(logger: FastifyBaseLogger): boolean {
  return logger.level === 'debug' || logger.level === 'trace';
}

/**
 * Request start/end lines only at debug: at info a node answering thousands of decisions a
 * second would log each. The level is checked first so that below debug a request builds no
 * bindings object (and reads no clock for `elapsedTime`) just for pino to drop it.
 */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (!debugEnabled(request.log)) return;
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null,
    _request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (!debugEnabled(reply.log)) return;
    reply.log.debug(
      { statusCode: reply.statusCode, err: error ?? undefined, ms: reply.elapsedTime },
      'request completed',
    );
  }
}

/**
 * A per-request child logger (its reqId binding) costs a pino child per decision; only debug
 * logs per request, so below debug every request shares the node's logger.
 */
type ChildArgs = Parameters<FastifyBaseLogger['child']>;
function sharedBelowDebug(
  logger: FastifyBaseLogger,
  bindings: ChildArgs[0],
  opts: ChildArgs[1],
): FastifyBaseLogger {
  return debugEnabled(logger) ? logger.child(bindings, opts) : logger;
}

const opsPaths = new Set(['/healthz', '/readyz', '/metrics']);

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function buildApi(service: RateLimitService, options: ApiOptions = {}): FastifyInstance {
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const metrics = options.metrics ?? createMetrics();
  const forwarder = new LeaderForwarder(
    options.forwardConnections ?? 16,
    options.tls ? { ca: options.tls.ca } : null,
  );
  const app = Fastify({
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
    bodyLimit: bodyLimitBytes,
    // A 512-byte key percent-encodes to at most 1536 characters.
    routerOptions: { maxParamLength: 2048 },
    logController: new DebugRequestLogs(),
    forceCloseConnections: true,
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance, childLoggerFactory: sharedBelowDebug }
      : { logger: options.logger ?? false }),
    // Bodies are typed JSON: "5" is not a cost. Strings stay strings.
    ajv: { customOptions: { coerceTypes: false } },
  }) as unknown as FastifyInstance;

  const ctx: RouteContext = {
    service,
    metrics,
    bounded: boundedBy(timeoutMs),
    allowTracer: options.allowTracer ?? null,
  };

  if (options.token !== undefined) {
    const check = bearerCheck(options.token);
    const protectOps = options.protectOps === true;
    app.addHook('onRequest', async (request, reply) => {
      if (!protectOps && opsPaths.has(pathOf(request.url))) return;
      if (check(request.headers.authorization)) return;
      reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong bearer token' });
      return reply;
    });
  }

  const fail = (reply: FastifyReply, err: unknown, request: FastifyRequest) => {
    const r = errorReplyFor(err);
    if (r.status === 503) {
      metrics.unavailable.inc();
      reply.header('retry-after', retryAfter);
      request.log.debug({ err }, 'unavailable');
    } else if (r.status >= 500) {
      request.log.error({ err }, 'request failed');
    }
    return reply.code(r.status).send({ error: r.error, message: r.message });
  };

  app.setErrorHandler(async (err, request, reply) => {
    const leaderHttp = isNotLeaderError(err) ? err.leaderHttp : null;
    if (leaderHttp === null || request.headers[forwardedHeader] !== undefined) {
      return fail(reply, err, request);
    }
    metrics.forwarded.inc();
    try {
      const answer = await forwarder.forward(
        leaderHttp,
        {
          method: request.method,
          url: request.url,
          body: request.body,
          authorization: request.headers.authorization,
        },
        timeoutMs - reply.elapsedTime,
      );
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    } catch (cause) {
      request.log.debug({ err: cause, leaderHttp }, 'forward failed');
      const message = `leader ${leaderHttp} unreachable: ${(cause as Error).message}`;
      return fail(reply, new DrlError('unavailable', message, { cause }), request);
    }
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${pathOf(request.url)}` }),
  );

  app.addHook('onClose', async () => forwarder.close());

  registerAllowRoute(app, ctx);
  registerRuleRoutes(app, ctx);
  registerClusterRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  return app;
}
