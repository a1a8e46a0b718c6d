/**
 * RateLimitService on top of one Raft member: the only place a request meets the log.
 * - Writes (allow, rules, overrides) are stamped with the leader's decision time, encoded,
 *   proposed, and answered with what the state machine returned when the entry applied.
 * - A denial without requestId for a key whose committed window is already full is answered
 *   from the applied state while the leader holds a lease (no log round), once applied has
 *   caught up with commit; read-only usage uses the lease, else ReadIndex.
 * - A new leader stamps nothing until every entry before its no-op has applied, so the decision
 *   clock's floor has seen every ts in its log: ts never decreases across leader changes.
 */
import {
  type AllowRequest,
  type AllowResponse,
  type ClusterStatus,
  type MemberInfo,
  type MutationResult,
  NotLeaderError,
  type RateLimitService,
  type Role,
} from '../../api/service.js';
import { DrlError, isDrlError } from '../../errors.js';
import { encodeCommand } from '../../limiter/command-codec.js';
import {
  type Limiter,
  validateCost,
  validateInlinePair,
  validateKey,
  validateOverrideSpec,
  validateRequestId,
  validateRuleName,
  validateRuleSpec,
} from '../../limiter/index.js';
import type {
  AllowCommand,
  Command,
  Decision,
  OverrideSpec,
  RuleSpec,
  Usage,
} from '../../limiter/types.js';
import type { RaftNode } from '../../raft/driver/raft-node.js';
import type { DecisionClock } from './decision-clock.js';
import type { ApplyOutcome } from './limiter-state-machine.js';
import { encodeAnnounce } from './member-announce.js';
import { encodeMemberContext, type MemberDirectory } from './member-directory.js';

export interface ReplicatedServiceOptions {
  id: string;
  node: RaftNode<ApplyOutcome>;
  engine: Limiter;
  clock: DecisionClock;
  members: MemberDirectory;
  /** Bound on waiting for the leader to be ready or applied to catch up. */
  requestTimeoutMs: number;
  /** Test-only: serve lease denials without checking the lease (jepsen-lite must catch it). */
  leaseWithoutCheck?: boolean;
}

const waitStepMs = 2;

export class ReplicatedService implements RateLimitService {
  /** Index of the no-op of the current leadership; stamping waits until it applies. */
  private leaderFloorIndex = Number.POSITIVE_INFINITY;

  constructor(private readonly o: ReplicatedServiceOptions) {
    o.node.on('leader', (change: { leader: string | null; role: string }) => {
      const leading = change.role === 'leader' && change.leader === o.id;
      this.leaderFloorIndex = leading ? o.node.status().lastIndex : Number.POSITIVE_INFINITY;
      if (leading) this.announce();
    });
  }

  async allow(req: AllowRequest): Promise<AllowResponse> {
    const command = this.validateAllow(req);
    await this.leaderReady();
    if (command.requestId === undefined && (this.o.leaseWithoutCheck || this.o.node.hasLease())) {
      const denial = await this.leaseDenial(command);
      if (denial !== null) return denial;
    }
    command.ts = this.stamp();
    const { index, outcome } = await this.propose(command);
    if (outcome.kind !== 'result' || outcome.result.type !== 'decision') {
      throw new DrlError('internal', `allow applied without a decision at ${index}`);
    }
    // A requestId retry answers with the first decision's index (outcome.index) and ts.
    const decidedAt = outcome.index ?? index;
    return {
      ...outcome.result.decision,
      index: decidedAt,
      ts: outcome.ts,
      windowMs: this.windowOf(command),
    };
  }

  async usage(rule: string, key: string): Promise<Usage> {
    validateRuleName(rule);
    validateKey(key);
    await this.linearizableRead();
    return this.o.engine.usage(rule, key, this.o.clock.next(this.voters()));
  }

  async listRules(): Promise<Record<string, RuleSpec>> {
    const out: Record<string, RuleSpec> = {};
    for (const { name, spec } of this.o.engine.listRules()) out[name] = spec;
    return out;
  }

  setRule(name: string, spec: RuleSpec): Promise<MutationResult> {
    validateRuleName(name);
    validateRuleSpec(spec);
    return this.mutate({ type: 'setRule', ts: 0, name, spec });
  }

  deleteRule(name: string): Promise<MutationResult> {
    validateRuleName(name);
    if (this.o.engine.getRule(name) === undefined) {
      throw new DrlError('not_found', `no rule named ${name}`);
    }
    return this.mutate({ type: 'deleteRule', ts: 0, name });
  }

  setOverride(rule: string, key: string, spec: OverrideSpec): Promise<MutationResult> {
    validateRuleName(rule);
    validateKey(key);
    validateOverrideSpec(spec);
    return this.mutate({ type: 'setOverride', ts: 0, rule, key, spec });
  }

  deleteOverride(rule: string, key: string): Promise<MutationResult> {
    validateRuleName(rule);
    validateKey(key);
    if (!this.o.engine.listOverrides(rule).some((o) => o.key === key)) {
      throw new DrlError('not_found', `no override for ${key} in rule ${rule}`);
    }
    return this.mutate({ type: 'deleteOverride', ts: 0, rule, key });
  }

  cluster(): ClusterStatus {
    const s = this.o.node.status();
    return {
      id: this.o.id,
      role: roleOf(s.role),
      term: s.term,
      leader: s.leader,
      commitIndex: s.commit,
      appliedIndex: s.applied,
      members: this.o.members.list([...s.conf.voters, ...s.conf.learners]),
    };
  }

  async addMember(member: MemberInfo): Promise<MutationResult> {
    this.requireLeader();
    const context = encodeMemberContext(member);
    const index = await this.o.node.proposeConfChange({
      type: 'addLearner',
      id: member.id,
      context,
    });
    return { index };
  }

  async removeMember(id: string): Promise<MutationResult> {
    this.requireLeader();
    const index = await this.o.node.proposeConfChange({ type: 'remove', id });
    return { index };
  }

  async transferLeader(to: string): Promise<void> {
    this.requireLeader();
    this.o.node.transferLeader(to);
    await this.waitUntil(() => this.o.node.status().leader === to, 'leadership transfer');
  }

  ready(): boolean {
    const s = this.o.node.status();
    return s.leader !== null && s.commit - s.applied < 1000;
  }

  private validateAllow(req: AllowRequest): AllowCommand {
    validateKey(req.key);
    const command: AllowCommand = { type: 'allow', ts: 0, key: req.key, cost: 1 };
    if (req.rule !== undefined) command.rule = validateRuleName(req.rule);
    if (req.cost !== undefined) command.cost = validateCost(req.cost);
    if (req.limit !== undefined || req.windowMs !== undefined) {
      validateInlinePair(req.limit, req.windowMs);
      command.limit = req.limit!;
      command.windowMs = req.windowMs!;
    }
    if (req.requestId !== undefined) command.requestId = validateRequestId(req.requestId);
    if (
      command.limit === undefined &&
      this.o.engine.getRule(command.rule ?? 'default') === undefined
    ) {
      throw new DrlError(
        'unknown_rule',
        `no rule named ${command.rule ?? 'default'} and no inline limit`,
      );
    }
    return command;
  }

  /** A lease-served denial, or null when the request must go through the log. */
  private async leaseDenial(command: AllowCommand): Promise<AllowResponse | null> {
    const commit = this.o.node.status().commit;
    await this.waitUntil(() => this.o.node.status().applied >= commit, 'apply to catch up');
    command.ts = this.stamp();
    const d: Decision = this.o.engine.evaluate(command);
    if (d.allowed) return null;
    const index = this.o.node.status().applied;
    return { ...d, index, ts: command.ts, windowMs: this.windowOf(command), leaseServed: true };
  }

  private async linearizableRead(): Promise<void> {
    this.requireLeader();
    await this.leaderReady();
    if (this.o.node.hasLease()) {
      const commit = this.o.node.status().commit;
      await this.waitUntil(() => this.o.node.status().applied >= commit, 'apply to catch up');
      return;
    }
    await this.o.node.readIndex();
  }

  private async mutate(command: Command): Promise<MutationResult> {
    await this.leaderReady();
    command.ts = this.stamp();
    const { index } = await this.propose(command);
    return { index };
  }

  private async propose(command: Command): Promise<{ index: number; outcome: ApplyOutcome }> {
    let proposed: { index: number; result: ApplyOutcome };
    try {
      proposed = await this.o.node.propose(encodeCommand(command));
    } catch (err) {
      throw this.translate(err);
    }
    if (proposed.result.kind === 'error') throw proposed.result.error;
    return { index: proposed.index, outcome: proposed.result };
  }

  /** Tells every node where this leader's HTTP API is (best effort: the next leader retries). */
  private announce(): void {
    const http = this.o.members.httpOf(this.o.id);
    if (http === null) return;
    this.o.node.propose(encodeAnnounce({ id: this.o.id, http })).catch(() => {});
  }

  private stamp(): number {
    return this.o.clock.next(this.voters());
  }

  private voters(): string[] {
    return this.o.node.status().conf.voters;
  }

  private windowOf(command: AllowCommand): number | undefined {
    if (command.windowMs !== undefined) return command.windowMs;
    return this.o.engine.getRule(command.rule ?? 'default')?.windowMs;
  }

  private requireLeader(): void {
    const s = this.o.node.status();
    if (s.role !== 'leader') throw new NotLeaderError(s.leader, this.o.members.httpOf(s.leader));
  }

  /** Waits until this node leads and every entry before its no-op has applied. */
  private async leaderReady(): Promise<void> {
    this.requireLeader();
    if (this.o.node.status().applied >= this.leaderFloorIndex) return;
    await this.waitUntil(() => {
      this.requireLeader();
      return this.o.node.status().applied >= this.leaderFloorIndex;
    }, 'the new leader to apply its log');
  }

  private async waitUntil(done: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + this.o.requestTimeoutMs;
    while (!done()) {
      if (performance.now() > deadline)
        throw new DrlError('unavailable', `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, waitStepMs));
    }
  }

  private translate(err: unknown): unknown {
    if (isDrlError(err) && err.code === 'not_leader') {
      const leader = this.o.node.status().leader;
      return new NotLeaderError(leader, this.o.members.httpOf(leader));
    }
    return err;
  }
}

function roleOf(role: string): Role {
  if (role === 'leader' || role === 'follower' || role === 'learner') return role;
  return 'candidate';
}
