/**
 * The contract's `POST /allow` request and response JSON schemas, shared by the benchmark's
 * Redis-backed service and its bare ceiling endpoint so both validate and serialize exactly the
 * same documents (fastify compiles them to ajv validators and fast-json-stringify serializers).
 */
import type { FastifyReply } from 'fastify';

export interface AllowBody {
  key: string;
  rule?: string;
  limit?: number;
  windowMs?: number;
  cost?: number;
  requestId?: string;
}

export interface AllowDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetMs: number;
  retryAfterMs: number | null;
  index: number;
  ts: number;
}

export const allowBodySchema = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: {
    // The contract bounds the key in UTF-8 bytes; characters are a close enough stand-in here.
    key: { type: 'string', minLength: 1, maxLength: 512 },
    rule: { type: 'string', minLength: 1, maxLength: 128 },
    limit: { type: 'integer', minimum: 1 },
    windowMs: { type: 'integer', minimum: 1 },
    cost: { type: 'integer', minimum: 1, default: 1 },
    requestId: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;

export const allowResponseSchema = {
  type: 'object',
  required: ['allowed', 'limit', 'remaining', 'resetMs', 'retryAfterMs', 'index', 'ts'],
  properties: {
    allowed: { type: 'boolean' },
    limit: { type: 'integer' },
    remaining: { type: 'integer' },
    resetMs: { type: 'integer' },
    retryAfterMs: { type: ['integer', 'null'] },
    index: { type: 'integer' },
    ts: { type: 'integer' },
  },
} as const;

export const errorResponseSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const allowRouteSchema = {
  body: allowBodySchema,
  response: { 200: allowResponseSchema, '4xx': errorResponseSchema, '5xx': errorResponseSchema },
} as const;

/** The contract's rate-limit headers, so both benchmark endpoints do the same per-reply work. */
export function setRateLimitHeaders(reply: FastifyReply, d: AllowDecision, windowMs: number): void {
  const resetS = Math.ceil(d.resetMs / 1000);
  reply.header('RateLimit-Policy', `${d.limit};w=${Math.ceil(windowMs / 1000)}`);
  reply.header('RateLimit', `limit=${d.limit}, remaining=${d.remaining}, reset=${resetS}`);
  reply.header('RateLimit-Limit', d.limit);
  reply.header('RateLimit-Remaining', d.remaining);
  reply.header('RateLimit-Reset', resetS);
  if (!d.allowed && d.retryAfterMs !== null) {
    reply.header('Retry-After', Math.ceil(d.retryAfterMs / 1000));
  }
}
