/**
 * Prometheus metrics on an own Registry (never the global one, so several nodes can share a
 * process in tests). The API updates the decision/forwarding counters; the node updates the
 * Raft and storage instruments through the same object.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DecisionTally } from './decision-tally.js';
import { LatencyHistogram } from './latency-histogram.js';
import { replaceLoopDelayGauges } from './loop-delay-gauges.js';

export interface DrlMetrics {
  readonly registry: Registry;
  readonly decisions: Counter<'outcome' | 'rule'>;
  readonly decisionDuration: LatencyHistogram;
  readonly leaseServed: Counter<string>;
  /** What POST /allow counts per decision; folded into `decisions`/`leaseServed` on scrape. */
  readonly tally: DecisionTally;
  readonly forwarded: Counter<string>;
  readonly unavailable: Counter<string>;
  readonly raftTerm: Gauge<string>;
  readonly commitIndex: Gauge<string>;
  readonly appliedIndex: Gauge<string>;
  readonly leaderChanges: Counter<string>;
  readonly proposalsInFlight: Gauge<string>;
  /** Observed per durable log write (per Ready on every node): our allocation-free histogram. */
  readonly fsyncDuration: LatencyHistogram;
  readonly batchSize: LatencyHistogram;
  readonly snapshotSizeBytes: Gauge<string>;
  readonly snapshotDuration: Histogram<string>;
  readonly peerAuthFailures: Counter<string>;
  readonly peerConnects: Counter<string>;
  /** Set by the node: refreshes the Raft gauges just before a scrape, so they are never stale. */
  onScrape?: () => void;
}

export interface MetricsOptions {
  /** Also collect Node process metrics (CPU, heap, event loop lag). Default true. */
  processMetrics?: boolean;
}

/** Resolution of the event-loop delay gauges (`nodejs_eventloop_lag_*_seconds`). */
export const loopDelaySampleMs = 100;
/** The largest timer interval Node accepts (~24.8 days). */
const neverMs = 2 ** 31 - 1;

const latencyBucketsSeconds = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export function createMetrics(options: MetricsOptions = {}): DrlMetrics {
  const registry = new Registry();
  // prom-client's loop-delay histogram (perf_hooks monitorEventLoopDelay) wakes the loop every
  // `eventLoopMonitoringPrecision` ms; its 10 ms default is 100 wakeups/s per node whether or
  // not anything happens, measured ~25% of an idle 3-node group's CPU. Sampling every 100 ms
  // still catches any stall long enough to matter (the election timeout is 200-400 ms).
  if (options.processMetrics !== false) {
    // prom-client's own lag histogram would report the sampling interval as delay: its gauges
    // are replaced below and its monitor is given an interval at which it never fires.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: neverMs });
    replaceLoopDelayGauges(registry, loopDelaySampleMs);
  }
  const registers = [registry];
  // The counters pull what the request path tallied when scraped (collect runs before get).
  let tally: DecisionTally | null = null;
  const decisions = new Counter({
    name: 'drl_decisions_total',
    help: 'Allow decisions answered by this node, by outcome (allowed|denied) and rule.',
    labelNames: ['outcome', 'rule'] as const,
    registers,
    collect: () => tally?.flushDecisions(),
  });
  const leaseServed = new Counter({
    name: 'drl_lease_served_total',
    help: 'Denials answered from the leader lease without a log entry.',
    registers,
    collect: () => tally?.flushLeaseServed(),
  });
  tally = new DecisionTally(decisions, leaseServed);
  return {
    registry,
    decisions,
    decisionDuration: new LatencyHistogram(
      'drl_decision_duration_seconds',
      'Time from receiving POST /allow to having its decision (commit + apply).',
      latencyBucketsSeconds,
      registers,
    ),
    leaseServed,
    tally,
    forwarded: new Counter({
      name: 'drl_forwarded_requests_total',
      help: 'Requests this node forwarded to the leader.',
      registers,
    }),
    unavailable: new Counter({
      name: 'drl_unavailable_total',
      help: 'Requests answered 503 unavailable (no quorum or leader in time).',
      registers,
    }),
    raftTerm: new Gauge({ name: 'drl_raft_term', help: 'Current Raft term.', registers }),
    commitIndex: new Gauge({
      name: 'drl_raft_commit_index',
      help: 'Highest log index known committed.',
      registers,
    }),
    appliedIndex: new Gauge({
      name: 'drl_raft_applied_index',
      help: 'Highest log index applied to the state machine.',
      registers,
    }),
    leaderChanges: new Counter({
      name: 'drl_raft_leader_changes_total',
      help: 'Times this node saw the leader change.',
      registers,
    }),
    proposalsInFlight: new Gauge({
      name: 'drl_raft_proposals_in_flight',
      help: 'Proposals waiting for commit and apply.',
      registers,
    }),
    fsyncDuration: new LatencyHistogram(
      'drl_fsync_duration_seconds',
      'Duration of each durable log write (fsync).',
      latencyBucketsSeconds,
      registers,
    ),
    batchSize: new LatencyHistogram(
      'drl_raft_batch_entries',
      'Entries per durable write / AppendEntries batch.',
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    ),
    snapshotSizeBytes: new Gauge({
      name: 'drl_snapshot_size_bytes',
      help: 'Size of the latest snapshot.',
      registers,
    }),
    snapshotDuration: new Histogram({
      name: 'drl_snapshot_duration_seconds',
      help: 'Time to write a snapshot.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    }),
    peerAuthFailures: new Counter({
      name: 'drl_raft_peer_auth_failures_total',
      help: 'Raft peer handshakes refused (wrong cluster secret, wrong peer id, malformed).',
      registers,
    }),
    peerConnects: new Counter({
      name: 'drl_raft_peer_connects_total',
      help: 'Outbound Raft peer connections that completed the handshake.',
      registers,
    }),
  };
}
