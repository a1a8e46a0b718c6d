/**
 * The two workloads' request bodies, shared by the closed-loop (autocannon) and the paced
 * generators so every target and every run sees the same JSON. Inline limits: no rule setup.
 */
import type { WorkloadName } from './http-load-types.js';

/** The spread workload's key space: user:0 .. user:(spreadKeys-1), round robin. */
export const spreadKeys = 10_000;
const spreadLimit = 1000;
const hotLimit = 10;
const windowMs = 60_000;

export const workloadDescription =
  `spread: user:0..${spreadKeys - 1} round robin, limit ${spreadLimit}/${windowMs / 1000}s; ` +
  `hot: one key, limit ${hotLimit}/${windowMs / 1000}s`;

/** A function returning the next request body of the workload. */
export function bodySource(workload: WorkloadName): () => string {
  if (workload === 'hot') {
    const body = JSON.stringify({ key: 'hot:1', limit: hotLimit, windowMs });
    return () => body;
  }
  let n = 0;
  return () => {
    n = n + 1 === spreadKeys ? 0 : n + 1;
    return `{"key":"user:${n}","limit":${spreadLimit},"windowMs":${windowMs}}`;
  };
}

/** A substring test: parsing every body would cost the load generator more than the target. */
export const saysAllowed = (body: string): boolean => body.includes('"allowed":true');
