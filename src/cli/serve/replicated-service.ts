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
  type InlineLimit,
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
import type { ConfChange } from '../../raft/types.js';
import type { DecisionClock } from './decision-clock.js';
import type { ApplyOutcome } from './limiter-state-machine.js';
import { encodeAnnounce, testBugAnnounceDelayMs } from './member-announce.js';
import { encodeMemberContext, type MemberDirectory } from './member-directory.js';

export interface ReplicatedServiceOptions {
  id: string;
  node: RaftNode<ApplyOutcome>;
  engine: Limiter;
  clock: DecisionClock;
  members: MemberDirectory;
  /** Bound on waiting for the leader to be ready or applied to catch up. */
  requestTimeoutMs: number;
  /** Where background membership work reports failures (promotion gave up). */
  onWarn?: (message: string) => void;
  /** Test-only: serve lease denials without checking the lease (jepsen-lite must catch it). */
  leaseWithoutCheck?: boolean;
  /**
   * Test-only ('skip-leader-noop'): a new leader serves at once, without waiting to apply the
   * entries of its log, and announces its address only later, so nothing of its term need
   * commit before it answers: the core's missing no-op reaches clients.
   */
  skipLeaderNoop?: boolean;
}

const waitStepMs = 2;
const membershipRetryMs = 50;
/** Bound on promoting a learner that is still catching up after POST /cluster/members returned. */
const promoteBackgroundMs = 120_000;
/** How often a leader tries to promote a learner (the core refuses until it has caught up). */
const promoteEveryMs = 250;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ReplicatedService implements RateLimitService {
  /** Index of the no-op of the current leadership; stamping waits until it applies. */
  private leaderFloorIndex = Number.POSITIVE_INFINITY;
  private readonly promoter: NodeJS.Timeout;

  constructor(private readonly o: ReplicatedServiceOptions) {
    o.node.on('leader', (change: { leader: string | null; role: string }) => {
      const leading = change.role === 'leader' && change.leader === o.id;
      const floor = o.skipLeaderNoop ? 0 : o.node.status().lastIndex;
      this.leaderFloorIndex = leading ? floor : Number.POSITIVE_INFINITY;
      if (leading && o.skipLeaderNoop) this.skipNoopLeadership();
      else if (leading) this.announce();
    });
    // Any leader finishes what POST /cluster/members started, even if the leader that added
    // the learner lost leadership before promoting it: learners exist only on the way in.
    this.promoter = setInterval(() => this.promoteCaughtUpLearner(), promoteEveryMs);
    this.promoter.unref();
  }

  /**
   * Synchronous for a lease-served denial (the common hot-key answer): no promise on that path.
   * Everything else resolves once its own entry has applied.
   */
  allow(req: AllowRequest): AllowResponse | Promise<AllowResponse> {
    const command = this.validateAllow(req);
    if (!this.leadsReady()) return this.leaderReady().then(() => this.allowAsLeader(command));
    return this.allowAsLeader(command);
  }

  private allowAsLeader(command: AllowCommand): AllowResponse | Promise<AllowResponse> {
    this.checkRuleKnown(command);
    command.ts = this.stamp();
    if (command.requestId === undefined && (this.o.leaseWithoutCheck || this.o.node.hasLease())) {
      const denial = this.leaseDenial(command);
      if (denial !== null) {
        if (!(denial instanceof Promise)) return denial;
        return denial.then((answer) => answer ?? this.proposeAllow(command));
      }
    }
    return this.proposeAllow(command);
  }

  /**
   * Proposes an allow and answers from what its own entry decided when it applied. One promise
   * per request: the node calls back (no promise of its own, no `.then`).
   */
  private proposeAllow(command: AllowCommand): Promise<AllowResponse> {
    return new Promise((resolve, reject) => {
      this.o.node.proposeWith(encodeCommand(command), (err, proposed) => {
        if (err) reject(this.translate(err));
        else {
          try {
            resolve(this.allowAnswer(command, proposed!.index, proposed!.result));
          } catch (thrown) {
            reject(thrown);
          }
        }
      });
    });
  }

  private allowAnswer(command: AllowCommand, index: number, outcome: ApplyOutcome): AllowResponse {
    if (outcome.kind === 'error') throw outcome.error;
    if (outcome.kind !== 'result' || outcome.result.type !== 'decision') {
      throw new DrlError('internal', `allow applied without a decision at ${index}`);
    }
    // A requestId retry answers with the first decision's index (outcome.index) and ts.
    const decidedAt = outcome.index ?? index;
    const window = this.windowOf(command);
    return answerOf(outcome.result.decision, decidedAt, outcome.ts, window, false);
  }

  async usage(rule: string, key: string, inline?: InlineLimit): Promise<Usage> {
    validateRuleName(rule);
    validateKey(key);
    if (inline !== undefined) validateInlinePair(inline.limit, inline.windowMs);
    await this.linearizableRead();
    const ts = this.o.clock.next(this.voters());
    return this.o.engine.usage(rule, key, ts, inline?.limit, inline?.windowMs);
  }

  async listRules(): Promise<Record<string, RuleSpec>> {
    await this.linearizableRead();
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

  /**
   * Adds a learner, then promotes it once it holds everything committed (the core refuses
   * earlier). Answers when promoted, or with the learner's index when catching up takes longer
   * than most of the request timeout; promotion then goes on in the background (bounded).
   */
  async addMember(member: MemberInfo): Promise<MutationResult> {
    this.requireLeader();
    const conf = this.o.node.status().conf;
    if (conf.voters.includes(member.id)) {
      throw new DrlError('invalid_argument', `invalid addLearner of ${member.id}: already a voter`);
    }
    let index = this.o.node.status().applied;
    if (!conf.learners.includes(member.id)) {
      const context = encodeMemberContext(member);
      const deadline = performance.now() + this.o.requestTimeoutMs * 0.5;
      index = await this.changeMembership({ type: 'addLearner', id: member.id, context }, deadline);
    }
    const promotion = this.changeMembership(
      { type: 'promote', id: member.id },
      performance.now() + promoteBackgroundMs,
    );
    promotion.catch((err) => this.o.onWarn?.(`promotion of ${member.id} failed: ${String(err)}`));
    const waitMs = this.o.requestTimeoutMs * 0.7;
    const promoted = await Promise.race([promotion, sleep(waitMs).then(() => null)]);
    return { index: promoted ?? index };
  }

  async removeMember(id: string): Promise<MutationResult> {
    this.requireLeader();
    const s = this.o.node.status();
    if (!s.conf.voters.includes(id) && !s.conf.learners.includes(id)) {
      throw new DrlError('not_found', `${id} is not a member`);
    }
    const index = await this.changeMembership(
      { type: 'remove', id },
      performance.now() + this.o.requestTimeoutMs * 0.8,
    );
    return { index };
  }

  /**
   * Proposes one membership change, retrying while the core says 'unavailable' (another change
   * pending, the leader's no-op not committed, a learner still catching up) until `deadline`;
   * resolves with its index once applied here.
   */
  private async changeMembership(change: ConfChange, deadline: number): Promise<number> {
    for (;;) {
      this.requireLeader();
      if (this.changeInEffect(change)) return this.o.node.status().applied;
      try {
        const index = await this.o.node.proposeConfChange(change);
        await this.waitUntil(
          () => this.o.node.status().applied >= index,
          `${change.type} to apply`,
        );
        return index;
      } catch (err) {
        const retry = isDrlError(err) && err.code === 'unavailable';
        if (!retry || performance.now() > deadline) throw this.translate(err);
      }
      await sleep(membershipRetryMs);
    }
  }

  async transferLeader(to: string): Promise<void> {
    this.requireLeader();
    this.o.node.transferLeader(to);
    await this.waitUntil(() => this.o.node.status().leader === to, 'leadership transfer');
  }

  close(): void {
    clearInterval(this.promoter);
  }

  private promoteCaughtUpLearner(): void {
    if (!this.o.node.isLeader()) return;
    const learner = this.o.node.status().conf.learners[0];
    if (learner === undefined) return;
    // Refused while it lags, while another change is pending, or before our no-op commits.
    this.o.node.proposeConfChange({ type: 'promote', id: learner }).catch(() => {});
  }

  /** In the group (voter or learner), a leader known, and applied close to commit. */
  ready(): boolean {
    const s = this.o.node.status();
    const member = s.conf.voters.includes(this.o.id) || s.conf.learners.includes(this.o.id);
    return member && s.leader !== null && s.commit - s.applied < 1000;
  }

  /** True when the configuration already reflects `change` (a retry after a timed-out wait). */
  private changeInEffect(change: ConfChange): boolean {
    const { voters, learners } = this.o.node.status().conf;
    if (change.type === 'promote') return voters.includes(change.id);
    const member = voters.includes(change.id) || learners.includes(change.id);
    return change.type === 'remove' ? !member : member;
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
    return command;
  }

  /** On the leader only: a follower's rules may lag behind a rule just written. */
  private checkRuleKnown(command: AllowCommand): void {
    if (command.limit !== undefined) return;
    if (this.o.engine.getRule(command.rule ?? 'default') !== undefined) return;
    throw new DrlError(
      'unknown_rule',
      `no rule named ${command.rule ?? 'default'} and no inline limit`,
    );
  }

  /**
   * A lease-served denial, or null when the request must go through the log (synchronous
   * unless applied must first catch up with commit). An allow seen on not-yet-caught-up state
   * goes to the log at once: the log decides it, so only a denial needs the caught-up state.
   */
  private leaseDenial(command: AllowCommand): AllowResponse | null | Promise<AllowResponse | null> {
    const node = this.o.node;
    const commit = node.commitIndex();
    const d: Decision = this.o.engine.evaluate(command);
    if (d.allowed) return null;
    if (node.appliedIndex() >= commit) return this.leaseAnswer(command, d);
    return this.caughtUpDenial(command, commit);
  }

  private async caughtUpDenial(
    command: AllowCommand,
    commit: number,
  ): Promise<AllowResponse | null> {
    try {
      await this.o.node.waitApplied(commit);
    } catch (err) {
      throw this.translate(err);
    }
    command.ts = this.stamp();
    const d: Decision = this.o.engine.evaluate(command);
    return d.allowed ? null : this.leaseAnswer(command, d);
  }

  private leaseAnswer(command: AllowCommand, d: Decision): AllowResponse {
    const index = this.o.node.appliedIndex();
    return answerOf(d, index, command.ts, this.windowOf(command), true);
  }

  private async linearizableRead(): Promise<void> {
    this.requireLeader();
    await this.leaderReady();
    if (this.o.node.hasLease()) {
      try {
        await this.o.node.waitApplied(this.o.node.commitIndex());
      } catch (err) {
        throw this.translate(err);
      }
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

  /**
   * 'skip-leader-noop' test bug: announce later (the announcement would do the no-op's job)
   * and ask for a quorum round at once, so the lease comes one round trip after election,
   * before the first client entry of the term commits.
   */
  private skipNoopLeadership(): void {
    const later = (): void => {
      if (this.o.node.isLeader()) this.announce();
    };
    setTimeout(later, testBugAnnounceDelayMs).unref();
    this.o.node.readIndex().catch(() => {});
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

  private voters(): readonly string[] {
    return this.o.node.voters();
  }

  private windowOf(command: AllowCommand): number | undefined {
    if (command.windowMs !== undefined) return command.windowMs;
    return this.o.engine.getRule(command.rule ?? 'default')?.windowMs;
  }

  private requireLeader(): void {
    if (this.o.node.isLeader()) return;
    const leader = this.o.node.leaderId();
    throw new NotLeaderError(leader, this.o.members.httpOf(leader));
  }

  /** True when this node leads and every entry before its no-op has applied (the fast path). */
  private leadsReady(): boolean {
    return this.o.node.isLeader() && this.o.node.appliedIndex() >= this.leaderFloorIndex;
  }

  /** Waits until this node leads and every entry before its no-op has applied. */
  private async leaderReady(): Promise<void> {
    this.requireLeader();
    if (this.o.node.appliedIndex() >= this.leaderFloorIndex) return;
    await this.waitUntil(() => {
      this.requireLeader();
      return this.o.node.appliedIndex() >= this.leaderFloorIndex;
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
      const leader = this.o.node.leaderId();
      return new NotLeaderError(leader, this.o.members.httpOf(leader));
    }
    return err;
  }
}

/** Field by field: an object spread plus added keys is several times slower on this path. */
function answerOf(
  d: Decision,
  index: number,
  ts: number,
  windowMs: number | undefined,
  leaseServed: boolean,
): AllowResponse {
  return {
    allowed: d.allowed,
    limit: d.limit,
    remaining: d.remaining,
    resetMs: d.resetMs,
    retryAfterMs: d.retryAfterMs,
    index,
    ts,
    windowMs,
    leaseServed,
  };
}

function roleOf(role: string): Role {
  if (role === 'leader' || role === 'follower' || role === 'learner') return role;
  return 'candidate';
}
