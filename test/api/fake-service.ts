/**
 * A deterministic in-memory RateLimitService: a test double for the HTTP layer only. Sliding
 * log per (rule, key), a settable clock, an index that counts mutations, and switches that make
 * it answer like a follower (NotLeaderError) or a node without quorum (hangs or throws).
 */

import {
  type AllowRequest,
  type AllowResponse,
  type ClusterStatus,
  type InlineLimit,
  type MemberInfo,
  type MutationResult,
  NotLeaderError,
  type RateLimitService,
} from '../../src/api/service.js';
import { DrlError } from '../../src/errors.js';
import type { OverrideSpec, RuleSpec, Usage } from '../../src/limiter/types.js';

interface Grant {
  ts: number;
  cost: number;
}

export interface FakeOptions {
  id?: string;
  rules?: Record<string, RuleSpec>;
  nowMs?: number;
}

export class FakeService implements RateLimitService {
  nowMs: number;
  index = 0;
  isReady = true;
  /** When set, leader-only calls throw NotLeaderError naming this leader. */
  follower: { leaderId: string | null; leaderHttp: string | null } | null = null;
  /** 'hang': leader-only calls never settle; 'throw': they reject with unavailable. */
  outage: 'hang' | 'throw' | null = null;
  readonly calls: AllowRequest[] = [];
  readonly rules = new Map<string, RuleSpec>();
  readonly overrides = new Map<string, OverrideSpec>();
  readonly members: MemberInfo[];
  leaderId: string;
  private readonly grants = new Map<string, Grant[]>();
  private readonly requests = new Map<string, { body: string; answer: AllowResponse }>();
  readonly id: string;

  constructor(options: FakeOptions = {}) {
    this.id = options.id ?? 'n1';
    this.leaderId = this.id;
    this.nowMs = options.nowMs ?? 1_700_000_000_000;
    for (const [name, spec] of Object.entries(options.rules ?? {})) this.rules.set(name, spec);
    this.members = [{ id: this.id, raft: '127.0.0.1:9001', http: '127.0.0.1:8001' }];
  }

  private async leaderOnly(): Promise<void> {
    if (this.outage === 'hang') await new Promise(() => {});
    if (this.outage === 'throw') throw new DrlError('unavailable', 'no quorum');
    if (this.follower) throw new NotLeaderError(this.follower.leaderId, this.follower.leaderHttp);
  }

  private spec(req: AllowRequest): { limit: number; windowMs: number } {
    if (req.limit !== undefined && req.windowMs !== undefined) {
      return { limit: req.limit, windowMs: req.windowMs };
    }
    const rule = req.rule ?? 'default';
    const override = this.overrides.get(`${rule}\u0000${req.key}`);
    if (override) return override;
    const spec = this.rules.get(rule);
    if (!spec) throw new DrlError('unknown_rule', `no rule named ${rule}`);
    return spec;
  }

  private live(id: string, windowMs: number): Grant[] {
    const list = (this.grants.get(id) ?? []).filter((g) => g.ts > this.nowMs - windowMs);
    this.grants.set(id, list);
    return list;
  }

  async allow(req: AllowRequest): Promise<AllowResponse> {
    await this.leaderOnly();
    this.calls.push(req);
    const body = JSON.stringify({ ...req, requestId: undefined });
    const seen = req.requestId === undefined ? undefined : this.requests.get(req.requestId);
    if (seen) {
      if (seen.body !== body) throw new DrlError('request_id_conflict', 'requestId reused');
      return seen.answer;
    }
    const { limit, windowMs } = this.spec(req);
    const cost = req.cost ?? 1;
    const id = `${req.rule ?? 'default'}\u0000${req.key}`;
    const list = this.live(id, windowMs);
    const used = list.reduce((sum, g) => sum + g.cost, 0);
    const allowed = used + cost <= limit;
    if (allowed) list.push({ ts: this.nowMs, cost });
    const oldest = list[0];
    const answer: AllowResponse = {
      allowed,
      limit,
      remaining: Math.max(0, limit - used - (allowed ? cost : 0)),
      resetMs: oldest ? oldest.ts + windowMs - this.nowMs : 0,
      retryAfterMs: allowed
        ? 0
        : cost > limit
          ? null
          : oldest
            ? oldest.ts + windowMs - this.nowMs
            : 1,
      index: ++this.index,
      ts: this.nowMs,
      windowMs,
    };
    if (req.requestId !== undefined) this.requests.set(req.requestId, { body, answer });
    return answer;
  }

  async usage(rule: string, key: string, inline?: InlineLimit): Promise<Usage> {
    await this.leaderOnly();
    const { limit, windowMs } = this.spec({ key, rule, ...inline });
    const list = this.live(`${rule}\u0000${key}`, windowMs);
    const used = list.reduce((sum, g) => sum + g.cost, 0);
    const oldest = list[0];
    return {
      used,
      limit,
      remaining: Math.max(0, limit - used),
      resetMs: oldest ? oldest.ts + windowMs - this.nowMs : 0,
    };
  }

  async listRules(): Promise<Record<string, RuleSpec>> {
    await this.leaderOnly();
    return Object.fromEntries(this.rules);
  }

  async setRule(name: string, spec: RuleSpec): Promise<MutationResult> {
    await this.leaderOnly();
    this.rules.set(name, spec);
    return { index: ++this.index };
  }

  async deleteRule(name: string): Promise<MutationResult> {
    await this.leaderOnly();
    if (!this.rules.delete(name)) throw new DrlError('not_found', `no rule named ${name}`);
    return { index: ++this.index };
  }

  async setOverride(rule: string, key: string, spec: OverrideSpec): Promise<MutationResult> {
    await this.leaderOnly();
    if (!this.rules.has(rule)) throw new DrlError('unknown_rule', `no rule named ${rule}`);
    this.overrides.set(`${rule}\u0000${key}`, spec);
    return { index: ++this.index };
  }

  async deleteOverride(rule: string, key: string): Promise<MutationResult> {
    await this.leaderOnly();
    if (!this.overrides.delete(`${rule}\u0000${key}`)) {
      throw new DrlError('not_found', `no override for ${rule}/${key}`);
    }
    return { index: ++this.index };
  }

  cluster(): ClusterStatus {
    return {
      id: this.id,
      role: this.follower ? 'follower' : 'leader',
      term: 3,
      leader: this.follower ? this.follower.leaderId : this.leaderId,
      commitIndex: this.index,
      appliedIndex: this.index,
      members: this.members,
    };
  }

  async addMember(member: MemberInfo): Promise<MutationResult> {
    await this.leaderOnly();
    if (this.members.some((m) => m.id === member.id)) {
      throw new DrlError('invalid_argument', `member ${member.id} exists`);
    }
    this.members.push(member);
    return { index: ++this.index };
  }

  async removeMember(id: string): Promise<MutationResult> {
    await this.leaderOnly();
    const at = this.members.findIndex((m) => m.id === id);
    if (at === -1) throw new DrlError('not_found', `no member ${id}`);
    this.members.splice(at, 1);
    return { index: ++this.index };
  }

  async transferLeader(to: string): Promise<void> {
    await this.leaderOnly();
    if (!this.members.some((m) => m.id === to)) throw new DrlError('not_found', `no member ${to}`);
    this.leaderId = to;
  }

  ready(): boolean {
    return this.isReady;
  }
}
