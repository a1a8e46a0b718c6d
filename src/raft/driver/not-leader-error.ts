import { DrlError } from '../../errors.js';
import type { NodeId } from '../types.js';

/** DrlError('not_leader') that also says who the leader is, when this node knows. */
export class NotLeaderError extends DrlError {
  readonly leader: NodeId | null;

  constructor(leader: NodeId | null, detail = 'not the leader') {
    super('not_leader', `${detail} (leader: ${leader ?? 'unknown'})`);
    this.leader = leader;
  }
}
