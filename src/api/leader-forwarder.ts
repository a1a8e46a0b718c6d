/**
 * Forwards a request a follower cannot answer to the leader, over kept-alive undici Pools
 * (one per leader origin, few: a group has 3-5 members), and hands back the leader's answer
 * unchanged. A forwarded request carries a hop header so it is never forwarded twice: a
 * second not-leader answer means leadership is moving, which the caller sees as 503.
 */
import { Pool } from 'undici';

export const forwardedHeader = 'x-drl-forwarded';

/** Headers of the leader's answer that the follower passes through. */
const passHeaders = [
  'content-type',
  'ratelimit-policy',
  'ratelimit',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
] as const;

const poolsMax = 16;

export interface ForwardInput {
  method: string;
  url: string;
  body: unknown;
  authorization: string | undefined;
}

export interface ForwardedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function toOrigin(address: string, scheme: 'http' | 'https' = 'http'): string {
  return address.startsWith('http://') || address.startsWith('https://')
    ? address.replace(/\/+$/, '')
    : `${scheme}://${address}`;
}

/** With TLS the group's HTTP is https only: forwards go over https, trusting `ca`. */
export interface ForwardTls {
  ca?: string | Buffer | undefined;
}

export class LeaderForwarder {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly connectionsPerLeader = 16,
    private readonly tls: ForwardTls | null = null,
  ) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (pool) return pool;
    if (this.pools.size >= poolsMax) {
      // Bounded: drop the oldest origin (a member long gone).
      const [oldest, old] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldest);
      void old.close();
    }
    pool = new Pool(origin, {
      connections: this.connectionsPerLeader,
      pipelining: 1,
      ...(this.tls?.ca !== undefined ? { connect: { ca: this.tls.ca } } : {}),
    });
    this.pools.set(origin, pool);
    return pool;
  }

  async forward(
    leaderHttp: string,
    input: ForwardInput,
    timeoutMs: number,
  ): Promise<ForwardedAnswer> {
    const headers: Record<string, string> = { [forwardedHeader]: '1' };
    if (input.authorization !== undefined) headers.authorization = input.authorization;
    let body: string | undefined;
    if (input.body !== undefined && input.body !== null) {
      body = JSON.stringify(input.body);
      headers['content-type'] = 'application/json';
    }
    const res = await this.pool(toOrigin(leaderHttp, this.tls ? 'https' : 'http')).request({
      method: input.method as 'GET',
      path: input.url,
      headers,
      body,
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    const out: Record<string, string> = {};
    for (const name of passHeaders) {
      const value = res.headers[name];
      if (typeof value === 'string') out[name] = value;
    }
    return {
      status: res.statusCode,
      headers: out,
      body: Buffer.from(await res.body.arrayBuffer()),
    };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }
}
