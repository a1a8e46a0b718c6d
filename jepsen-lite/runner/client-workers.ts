import type { Rng } from '../gen/rng.js';
import type { Recorder } from '../history/recorder.js';
import type { AllowOp, AllowResult } from '../history/types.js';
import type { Cluster } from './cluster.js';
import { httpJson } from './http.js';

/**
 * Concurrent clients against random nodes. 200 -> ok, 4xx -> fail (nothing applied), anything
 * else (5xx, timeout, reset) -> info: the request may still take effect, so the worker takes a
 * new process id (Jepsen's rule). An indeterminate op with a requestId is retried with the same
 * id (backing off, on random nodes) until it gets a definite answer or its tries run out: the
 * service answers a known id with the first decision, so the checker merges the attempts into
 * one op from the first invoke to the first answer, and hour-long histories keep few
 * indeterminate ops per key. Ops without an id, and a share of those with one (abandoned at
 * once), stay indeterminate so the checker's handling of them is still exercised.
 */
export interface WorkloadOptions {
  workers: number;
  keys: number;
  limit: number;
  windowMs: number;
  requestTimeoutMs: number;
  /** Share of ops carrying a requestId. */
  requestIdRate: number;
  /** Chance to give up at once on an indeterminate op that has a requestId. */
  abandonRate: number;
  /** Bounds on retrying one indeterminate op (well inside the service's 10 min id retention). */
  retryTriesMax: number;
  retryForMs: number;
  /** Chance to re-send an answered op with a requestId (checks dedupe of settled ids). */
  resendRate: number;
}

export const defaultWorkload: WorkloadOptions = {
  workers: 8,
  keys: 8,
  limit: 5,
  windowMs: 1000,
  requestTimeoutMs: 2000,
  requestIdRate: 0.85,
  abandonRate: 0.1,
  retryTriesMax: 120,
  retryForMs: 60_000,
  resendRate: 0.05,
};

type Outcome = { type: 'ok'; result: AllowResult } | { type: 'fail' | 'info'; error: string };

async function send(
  cluster: Cluster,
  node: string,
  op: AllowOp,
  timeoutMs: number,
): Promise<Outcome> {
  try {
    const res = await httpJson('POST', `${cluster.url(node)}/allow`, op, timeoutMs);
    const body = res.body as Record<string, unknown> | null;
    if (res.status === 200 && body !== null) {
      return {
        type: 'ok',
        result: {
          allowed: body.allowed as boolean,
          remaining: body.remaining as number,
          index: body.index as number,
          ts: body.ts as number,
          limit: body.limit as number,
          resetMs: body.resetMs as number,
          retryAfterMs: body.retryAfterMs as number | null,
        },
      };
    }
    const code = typeof body?.error === 'string' ? body.error : `http_${res.status}`;
    return { type: res.status >= 400 && res.status < 500 ? 'fail' : 'info', error: code };
  } catch (err) {
    return { type: 'info', error: (err as Error).name || 'transport' };
  }
}

/**
 * Backoff before retry number `tries` (1-based): 100 ms doubling to 500 ms, jittered. Short,
 * so that after a restart of every node the workers are back within half a second: answers
 * right after a restart are what reveal lost acknowledged writes (ack-before-fsync).
 */
function retryDelayMs(rng: Rng, tries: number): number {
  const base = Math.min(500, 50 * 2 ** Math.min(tries, 4));
  return rng.int(base / 2, base);
}

/** An indeterminate op being retried with its requestId. */
interface Retry {
  op: AllowOp;
  tries: number;
  firstMs: number;
  /** A re-send of an answered op (one try only), not a retry of an indeterminate one. */
  resend: boolean;
}

export async function runWorker(
  cluster: Cluster,
  recorder: Recorder,
  rng: Rng,
  options: WorkloadOptions,
  deadlineMs: number,
  workerId: number,
): Promise<void> {
  let process = recorder.newProcess();
  let retry: Retry | undefined;
  let seq = 0;
  while (Date.now() < deadlineMs) {
    const op: AllowOp = retry?.op ?? {
      rule: 'default',
      key: `k${rng.int(0, options.keys - 1)}`,
      limit: options.limit,
      windowMs: options.windowMs,
      cost: rng.chance(0.8) ? 1 : 2,
    };
    if (retry === undefined && rng.chance(options.requestIdRate))
      op.requestId = `w${workerId}-${seq++}`;
    const current = retry;
    retry = undefined;
    const node = rng.pick(cluster.nodes).id;
    recorder.invoke(process, op, node);
    const outcome = await send(cluster, node, op, options.requestTimeoutMs);
    if (outcome.type === 'ok') {
      recorder.complete(process, 'ok', op, { result: outcome.result, node });
      if (op.requestId !== undefined && rng.chance(options.resendRate)) {
        retry = { op, tries: 0, firstMs: Date.now(), resend: true };
      }
      continue;
    }
    recorder.complete(process, outcome.type, op, { error: outcome.error, node });
    if (outcome.type !== 'info') continue;
    process = recorder.newProcess();
    if (op.requestId === undefined || current?.resend === true) {
      await new Promise((r) => setTimeout(r, rng.int(10, 100)));
      continue;
    }
    const next: Retry = current ?? { op, tries: 0, firstMs: Date.now(), resend: false };
    next.tries++;
    const giveUp =
      (current === undefined && rng.chance(options.abandonRate)) ||
      next.tries > options.retryTriesMax ||
      Date.now() - next.firstMs > options.retryForMs;
    if (!giveUp) retry = next;
    await new Promise((r) => setTimeout(r, retryDelayMs(rng, next.tries)));
  }
}
