/**
 * The library client of a replicated group. Sends to the leader directly when it knows it
 * (found with GET /cluster, cached), re-discovers after a 503 or a connection error, retries
 * within `timeoutMs`, and reuses one requestId across an allow's retries so it counts once.
 */
import { randomUUID } from 'node:crypto';
import { DrlError, isDrlError } from '../errors.js';
import { DegradedMode } from './degraded.js';
import { errorFromReply } from './error-from-reply.js';
import { HttpTransport, type Scheme, toOrigin } from './http-transport.js';
import type {
  AllowOptions,
  ClientDecision,
  ClientOptions,
  ClusterStatus,
  MemberInfo,
  MutationResult,
  OverrideSpec,
  RuleSpec,
  Usage,
} from './types.js';

const attemptsMax = 12;
const backoffBaseMs = 20;
const backoffMaxMs = 250;
const rediscoverAfterMs = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Origins of the endpoints; a bare host:port gets https when any endpoint is https. */
function parseEndpoints(endpoints: string[] | string): { origins: string[]; scheme: Scheme } {
  const list = (Array.isArray(endpoints) ? endpoints : endpoints.split(','))
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (list.length === 0)
    throw new DrlError('invalid_argument', 'at least one endpoint is required');
  const scheme: Scheme = list.some((e) => e.startsWith('https://')) ? 'https' : 'http';
  return { origins: [...new Set(list.map((e) => toOrigin(e, scheme)))], scheme };
}

const seg = encodeURIComponent;

export class Client {
  readonly endpoints: readonly string[];
  /** Scheme of addresses learned from the group: https when any endpoint is https. */
  private readonly scheme: Scheme;
  private readonly transport: HttpTransport;
  private readonly timeoutMs: number;
  private readonly degraded: DegradedMode | null;
  /** Where calls go: the leader when discovery found it, else an endpoint (which forwards). */
  private target: string | null = null;
  private targetIsLeader = false;
  /** A non-leader target is re-checked after this time, to move to the leader directly. */
  private rediscoverAtMs = 0;
  private nextEndpoint = 0;
  private closed = false;

  constructor(options: ClientOptions) {
    const { origins, scheme } = parseEndpoints(options.endpoints);
    this.endpoints = origins;
    this.scheme = scheme;
    this.transport = new HttpTransport(options.token, { ca: options.ca });
    this.timeoutMs = options.timeoutMs ?? 3000;
    if (!(this.timeoutMs > 0)) throw new DrlError('invalid_argument', 'timeoutMs must be > 0');
    const mode = options.onUnavailable ?? 'throw';
    if (mode !== 'throw' && mode !== 'failOpen' && mode !== 'failClosed') {
      throw new DrlError('invalid_argument', `onUnavailable must be throw|failOpen|failClosed`);
    }
    this.degraded =
      mode === 'throw'
        ? null
        : new DegradedMode(
            mode,
            options.logger ?? console,
            options.degradedLogIntervalMs ?? 10_000,
          );
  }

  /** Decisions answered locally by failOpen/failClosed since the client was made. */
  get degradedTotal(): number {
    return this.degraded?.total ?? 0;
  }

  /** The leader origin the client currently sends to, if it knows one. */
  get leader(): string | null {
    return this.targetIsLeader ? this.target : null;
  }

  async allow(key: string, opts: AllowOptions = {}): Promise<boolean> {
    return (await this.check(key, opts)).allowed;
  }

  async check(key: string, opts: AllowOptions = {}): Promise<ClientDecision> {
    const body = {
      key,
      rule: opts.rule,
      limit: opts.limit,
      windowMs: opts.windowMs,
      cost: opts.cost,
      requestId: opts.requestId ?? randomUUID(),
    };
    try {
      return await this.call<ClientDecision>('POST', '/allow', body);
    } catch (err) {
      if (this.degraded && isDrlError(err) && err.code === 'unavailable') {
        return this.degraded.decide(opts, err);
      }
      throw err;
    }
  }

  /** What a key has used (records nothing); `inline`: under that inline limit. */
  usage(rule: string, key: string, inline?: { limit: number; windowMs: number }): Promise<Usage> {
    const query = inline === undefined ? '' : `?limit=${inline.limit}&windowMs=${inline.windowMs}`;
    return this.call('GET', `/keys/${seg(rule)}/${seg(key)}${query}`);
  }

  async rules(): Promise<Record<string, RuleSpec>> {
    return (await this.call<{ rules: Record<string, RuleSpec> }>('GET', '/rules')).rules;
  }

  rule(name: string): Promise<RuleSpec & { name: string }> {
    return this.call('GET', `/rules/${seg(name)}`);
  }

  setRule(name: string, spec: RuleSpec): Promise<MutationResult> {
    return this.call('PUT', `/rules/${seg(name)}`, spec);
  }

  deleteRule(name: string): Promise<MutationResult> {
    return this.call('DELETE', `/rules/${seg(name)}`);
  }

  setOverride(rule: string, key: string, spec: OverrideSpec): Promise<MutationResult> {
    return this.call('PUT', `/rules/${seg(rule)}/keys/${seg(key)}`, spec);
  }

  deleteOverride(rule: string, key: string): Promise<MutationResult> {
    return this.call('DELETE', `/rules/${seg(rule)}/keys/${seg(key)}`);
  }

  /** One node's own view. With `endpoint`, asks exactly that node (no retry, no failover). */
  async cluster(endpoint?: string): Promise<ClusterStatus> {
    if (endpoint === undefined) return this.call('GET', '/cluster');
    return this.once<ClusterStatus>(
      toOrigin(endpoint, this.scheme),
      'GET',
      '/cluster',
      undefined,
      this.timeoutMs,
    );
  }

  addMember(member: MemberInfo): Promise<MutationResult> {
    return this.call('POST', '/cluster/members', member);
  }

  removeMember(id: string): Promise<MutationResult> {
    return this.call('DELETE', `/cluster/members/${seg(id)}`);
  }

  transferLeader(to: string): Promise<{ ok: boolean; leader: string }> {
    return this.call('POST', '/cluster/leader', { to });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }

  /** One request to one origin; HTTP errors become DrlErrors, transport errors 'unavailable'. */
  private async once<T>(
    origin: string,
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<T> {
    let answer: Awaited<ReturnType<HttpTransport['request']>>;
    try {
      answer = await this.transport.request(origin, method, path, body, timeoutMs);
    } catch (cause) {
      throw new DrlError('unavailable', `${origin}: ${(cause as Error).message}`, { cause });
    }
    if (answer.status >= 400) throw errorFromReply(answer.status, answer.body);
    return answer.body as T;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (this.closed) throw new DrlError('closed', 'client is closed');
    const deadlineMs = Date.now() + this.timeoutMs;
    let last: DrlError = new DrlError('unavailable', 'no endpoint answered');
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      const remainingMs = deadlineMs - Date.now();
      if (remainingMs <= 0) break;
      const usable =
        this.target !== null && (this.targetIsLeader || Date.now() < this.rediscoverAtMs);
      const origin = usable && this.target !== null ? this.target : await this.discover(deadlineMs);
      // Leave time for a failover unless this is the last chance.
      const attemptMs = remainingMs > 400 ? remainingMs / 2 : remainingMs;
      try {
        return await this.once<T>(origin, method, path, body, attemptMs);
      } catch (err) {
        if (!isDrlError(err) || err.code !== 'unavailable') throw err;
        last = err;
        this.forget(origin);
        const pauseMs = Math.min(
          backoffMaxMs,
          backoffBaseMs * 2 ** attempt,
          deadlineMs - Date.now(),
        );
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }
    throw new DrlError(
      'unavailable',
      `no leader answered within ${this.timeoutMs} ms: ${last.message}`,
      {
        cause: last,
      },
    );
  }

  private forget(origin: string): void {
    if (this.target === origin) this.target = null;
    const at = this.endpoints.indexOf(origin);
    if (at !== -1 && at === this.nextEndpoint % this.endpoints.length) this.nextEndpoint++;
  }

  /** Asks endpoints (from the next in turn) who leads; falls back to an endpoint, which forwards. */
  private async discover(deadlineMs: number): Promise<string> {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const origin = this.endpoints[(this.nextEndpoint + i) % n]!;
      const remainingMs = deadlineMs - Date.now();
      if (remainingMs <= 0) break;
      try {
        const s = await this.once<ClusterStatus>(
          origin,
          'GET',
          '/cluster',
          undefined,
          Math.min(remainingMs, 500),
        );
        const leader = s.leader === null ? undefined : s.members.find((m) => m.id === s.leader);
        if (s.leader !== null && s.leader === s.id) return this.remember(origin, true);
        if (leader?.http !== undefined) {
          return this.remember(toOrigin(leader.http, this.scheme), true);
        }
        this.nextEndpoint = (this.nextEndpoint + i) % n;
        return this.remember(origin, false);
      } catch {
        // Unreachable: try the next endpoint.
      }
    }
    const origin = this.endpoints[this.nextEndpoint % n]!;
    this.nextEndpoint++;
    return origin;
  }

  private remember(origin: string, isLeader: boolean): string {
    this.target = origin;
    this.targetIsLeader = isLeader;
    this.rediscoverAtMs = Date.now() + rediscoverAfterMs;
    return origin;
  }
}
