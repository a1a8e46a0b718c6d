/**
 * Load and agreement helpers for the snapshot and membership tests: allows with a requestId
 * retried until a definite answer (so every attempt is counted exactly once even across leader
 * changes), and polling helpers on GET /cluster.
 */
import { randomUUID } from 'node:crypto';
import { type Cluster, sleep } from './cluster-harness.js';

export interface AllowBody {
  key: string;
  rule?: string;
}

/**
 * One decision, retried with the same requestId on errors/503 until definite (true/false) or
 * the deadline. null = indeterminate (only on a timeout).
 */
export async function decide(
  c: Cluster,
  body: AllowBody,
  deadlineMs = Date.now() + 20_000,
): Promise<boolean | null> {
  const requestId = randomUUID();
  for (let attempt = 0; Date.now() < deadlineMs && attempt < 200; attempt++) {
    const ids = c.alive();
    const id = ids[attempt % ids.length];
    if (id === undefined) return null;
    try {
      const r = await c.request(id, 'POST', '/allow', { ...body, requestId }, 2000);
      if (r.status === 200) return r.body.allowed === true;
    } catch {
      // indeterminate: retry with the same requestId
    }
    await sleep(50);
  }
  return null;
}

/** `count` decisions from `concurrency` workers; returns how many were granted per rule/key. */
export async function load(
  c: Cluster,
  count: number,
  concurrency: number,
  bodyOf: (i: number) => AllowBody,
): Promise<{ granted: Map<string, number>; indeterminate: number }> {
  const granted = new Map<string, number>();
  let next = 0;
  let indeterminate = 0;
  const worker = async () => {
    while (next < count) {
      const body = bodyOf(next++);
      const d = await decide(c, body);
      if (d === null) indeterminate++;
      else if (d) {
        const k = `${body.rule ?? 'default'}/${body.key}`;
        granted.set(k, (granted.get(k) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { granted, indeterminate };
}

export interface ClusterView {
  id: string;
  role: string;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  members: { id: string }[];
}

export async function view(c: Cluster, id: string): Promise<ClusterView | null> {
  try {
    const r = await c.request(id, 'GET', '/cluster', undefined, 1000);
    return r.status === 200 ? (r.body as unknown as ClusterView) : null;
  } catch {
    return null;
  }
}

/** Polls until `check` holds or the time is up; returns whether it held. */
export async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

/** GET /keys via whichever node answers (followers forward to the leader). */
export async function used(c: Cluster, rule: string, key: string): Promise<number> {
  const path = `/keys/${rule}/${encodeURIComponent(key)}`;
  for (let i = 0; i < 50; i++) {
    for (const id of c.alive()) {
      try {
        const r = await c.request(id, 'GET', path, undefined, 2000);
        if (r.status === 200) return r.body.used as number;
      } catch {
        // next node
      }
    }
    await sleep(200);
  }
  throw new Error(`no node answered GET ${path}`);
}
