/**
 * Kept-alive undici Pools, one per node origin, and one JSON request helper. Bounded: at
 * most `poolsMax` origins (a group has 3-5 members; discovery may add a few addresses).
 */
import { Pool } from 'undici';

const poolsMax = 32;

export interface RawAnswer {
  status: number;
  body: unknown;
}

export type Scheme = 'http' | 'https';

/** `host:port` gets `scheme`; an address with its own scheme keeps it. */
export function toOrigin(address: string, scheme: Scheme = 'http'): string {
  const trimmed = address.trim().replace(/\/+$/, '');
  return /^https?:\/\//.test(trimmed) ? trimmed : `${scheme}://${trimmed}`;
}

export interface TransportTls {
  ca?: string | Buffer | Array<string | Buffer> | undefined;
}

export class HttpTransport {
  private readonly pools = new Map<string, Pool>();
  private readonly authorization: string | undefined;

  constructor(
    token: string | undefined,
    private readonly tls: TransportTls = {},
  ) {
    this.authorization = token === undefined ? undefined : `Bearer ${token}`;
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (pool) return pool;
    if (this.pools.size >= poolsMax) {
      const [oldest, old] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldest);
      void old.close();
    }
    pool = new Pool(origin, {
      connections: 16,
      keepAliveTimeout: 30_000,
      ...(this.tls.ca !== undefined ? { connect: { ca: this.tls.ca } } : {}),
    });
    this.pools.set(origin, pool);
    return pool;
  }

  /** Throws on connection errors and timeouts; any HTTP status resolves. */
  async request(
    origin: string,
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<RawAnswer> {
    const headers: Record<string, string> = {};
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await this.pool(origin).request({
      method: method as 'GET',
      path,
      headers,
      body: payload,
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    if (text.length > 0 && String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.statusCode, body: parsed };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }
}
