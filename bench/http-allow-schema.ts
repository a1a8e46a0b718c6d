/**
 * The benchmark's Redis-backed service and bare ceiling endpoint validate, serialize and set
 * headers with the product's own pieces (src/api), so all three targets do the same per-request
 * work: the same `POST /allow` schemas in and out and the same rate-limit headers.
 */
import type { FastifyReply } from 'fastify';
import { setRateLimitHeaders as setProductHeaders } from '../src/api/rate-limit-headers.js';
import { allowBody, allowReply, errorResponses } from '../src/api/schemas.js';
import type { AllowRequest, AllowResponse } from '../src/api/service.js';

export type AllowBody = AllowRequest;
export type AllowDecision = AllowResponse;

export const allowRouteSchema = {
  body: allowBody,
  response: { 200: allowReply, ...errorResponses },
} as const;

export function setRateLimitHeaders(reply: FastifyReply, d: AllowDecision, windowMs: number): void {
  setProductHeaders(reply, 'default', { ...d, windowMs });
}
