/**
 * What the benchmark parent sends to a load-generator child (as argv JSON) and what the child
 * prints back: `{"phase":"measure"}` once its warm-up is over (the parent starts its CPU
 * accounting then), then one result JSON line. Pure types: no code, shared by both sides.
 */

export type WorkloadName = 'spread' | 'hot';

export interface LoadSpec {
  url: string;
  workload: WorkloadName;
  connections: number;
  /** Discarded warm-up, in the same process just before the measured run. */
  warmupS: number;
  durationS: number;
  /** autocannon's overallRate (requests/s over all connections); closed loop when absent. */
  overallRate?: number;
}

export interface LoadResult {
  spec: LoadSpec;
  /** Measured-run wall time in seconds. */
  elapsedS: number;
  responses: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx responses whose body said allowed:true. */
  allowed: number;
  decisionsPerS: number;
  /** Spread of the one-second samples of responses/s: how steady the run was. */
  perSecond: { min: number; max: number; stddev: number };
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** CPU seconds the load generator itself used in the measured run (user + system). */
  loadgenCpuS: number;
}

/** An open-loop run: requests sent on a fixed schedule whatever the target's answers. */
export interface PacedSpec {
  url: string;
  workload: WorkloadName;
  /** Keep-alive connections in the pool (requests queue for one when all are busy). */
  connections: number;
  ratePerS: number;
  warmupS: number;
  durationS: number;
  /** `raw` sockets (default) or undici's Pool (the first generator, to compare). */
  client?: 'raw' | 'undici';
  /** Raw client only: record every measured request's times and log index (`--trace`). */
  trace?: boolean;
}

/**
 * `--trace`: per measured request (by schedule position), CLOCK_MONOTONIC ms of its due time,
 * its write and its answer, and the log index its answer named (0 = unanswered or no index).
 */
export interface PacedTrace {
  due: number[];
  sent: number[];
  answered: number[];
  index: number[];
}

export interface LatencyMs {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** The generator's own stalls while it measured (see http-generator-health.ts). */
export interface GeneratorStats {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  cpuCores: number;
  cpuS: number;
}

export interface PacedResult {
  spec: PacedSpec;
  elapsedS: number;
  /** Requests the schedule called for in the measured run. */
  scheduled: number;
  /** Not sent because too many were already outstanding (the target had stopped answering). */
  dropped: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  allowed: number;
  /** 2xx answers per second of the measured run. */
  achievedPerS: number;
  /** Latency from each request's scheduled send time (coordinated omission counted). */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** From the actual send: the target, the network and the generator's receive path. */
  fromSend?: LatencyMs;
  /** How late requests went out past their scheduled time (timer, busy loop, no free connection). */
  sendDelay?: LatencyMs;
  /** How late the generator itself issued a request past its scheduled time, worst case. */
  sendLagMsMax: number;
  generator?: GeneratorStats;
  loadgenCpuS: number;
  trace?: PacedTrace;
}
