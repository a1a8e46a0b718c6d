import type { NodeId } from '../types.js';

/**
 * Stages of an entry's way through a node, for latency diagnosis (bench:raft with TRACE=1,
 * `drl serve --test-mode --trace-entries`). The driver reports each stage once per event for a
 * range of indexes, never per entry (but `proposed`, one per proposal), so a tracer costs a
 * few calls per Ready; without one the driver pays a null check.
 */
export const TraceStage = {
  /** A full Ready holding these new entries was taken (leader: the batch; follower: from App). */
  ready: 0,
  /** Leader: the Ready's App messages are handed to the sockets (before its own fsync). */
  sent: 1,
  /** These entries are durable in this node's log. */
  persisted: 2,
  /** Follower: an App carrying these entries was stepped. */
  received: 3,
  /** Follower: the AppResp acknowledging up to `hi` was written to the socket. */
  respSent: 4,
  /** Leader: an AppResp from `peer` acknowledging up to `hi` was stepped. */
  acked: 5,
  /** The commit index passed these entries (leader: by the quorum; follower: learned). */
  committed: 6,
  /** The state machine applied these entries (answers resolve right after). */
  applied: 7,
  /** Leader: propose() appended this entry to the core (one index per call). */
  proposed: 8,
} as const;
export type TraceStage = (typeof TraceStage)[keyof typeof TraceStage];

export interface EntryTracer {
  /** Entries [lo, hi] reached `stage`; lo = 0 means "every index up to hi not marked yet". */
  mark(stage: TraceStage, lo: number, hi: number, peer?: NodeId): void;
}
