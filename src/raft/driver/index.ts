export type { LogWrites, RaftNodeOptions } from './node-options.js';
export { NotLeaderError } from './not-leader-error.js';
export { type LeaderChange, RaftNode } from './raft-node.js';
export type { Proposed, StateMachine } from './state-machine.js';
