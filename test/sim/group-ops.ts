/**
 * Group operations the fault schedule asks a leader for: leadership transfer and membership
 * changes (add a learner, promote it, remove a voter). A refusal (DrlError) is a normal answer.
 */
import { DrlError } from '../../src/errors.js';
import type { ConfChange } from '../../src/raft/types.js';
import type { Prng } from './prng.js';
import type { SimNode } from './sim-node.js';
import type { SimStats } from './stats.js';

export interface GroupOpsContext {
  readonly nodes: readonly SimNode[];
  readonly rng: Prng;
  readonly stats: SimStats;
  /** Ids that have ever been in the configuration: never re-added (a reused id could vote twice). */
  readonly everMember: Set<string>;
  leader(): SimNode | null;
  trace(line: string): void;
  /** Let the node's driver run after the call. */
  afterCall(node: SimNode): void;
}

export function transferLeader(ctx: GroupOpsContext): void {
  const leader = ctx.leader();
  if (leader === null) return;
  const others = leader.raft.status().conf.voters.filter((v) => v !== leader.id);
  if (others.length === 0) return;
  const to = ctx.rng.pick(others);
  if (!refused(() => leader.raft.transferLeader(to))) ctx.stats.transfers++;
  ctx.trace(`transfer ${leader.id} -> ${to}`);
  ctx.afterCall(leader);
}

export function changeMembership(ctx: GroupOpsContext): void {
  const leader = ctx.leader();
  if (leader === null) return;
  const conf = leader.raft.status().conf;
  const spare = ctx.nodes.find((n) => !ctx.everMember.has(n.id));
  let change: ConfChange | null = null;
  if (conf.learners[0] !== undefined) change = { type: 'promote', id: conf.learners[0] };
  else if (spare !== undefined) change = { type: 'addLearner', id: spare.id };
  else if (conf.voters.length > 3) change = { type: 'remove', id: ctx.rng.pick(conf.voters) };
  if (change === null) return;
  const proposed = change;
  if (!refused(() => leader.raft.proposeConfChange(proposed))) {
    ctx.stats.confChanges++;
    ctx.everMember.add(proposed.id);
  }
  ctx.trace(`membership ${proposed.type} ${proposed.id} at ${leader.id}`);
  ctx.afterCall(leader);
}

/** Runs a core call a client may legitimately be refused; true if it was refused. */
function refused(call: () => unknown): boolean {
  try {
    call();
    return false;
  } catch (err) {
    if (err instanceof DrlError) return true;
    throw err;
  }
}
