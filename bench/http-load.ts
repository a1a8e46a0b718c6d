/**
 * Closed-loop load generator (child process): runs autocannon programmatically against one
 * target for one workload, a discarded warm-up then the measured run, and prints
 * `{"phase":"measure"}` between the two (the parent's CPU accounting starts there) and one
 * LoadResult JSON line at the end. It runs apart from the targets so its CPU shows up as its own
 * process. Latency is recorded here in microseconds from autocannon's per-response float ms
 * (autocannon's own histogram keeps whole ms only). Argv[2]: a LoadSpec as JSON.
 */
import { createRequire } from 'node:module';
import * as hdr from 'hdr-histogram-js';
import { exitWithParent } from './http-child-lifetime.js';
import type { LoadResult, LoadSpec } from './http-load-types.js';
import { bodySource, saysAllowed } from './http-workloads.js';

interface AutocannonRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
  onResponse?: (status: number, body: string) => void;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  timeout: number;
  requests: AutocannonRequest[];
  overallRate?: number;
}

interface AutocannonInstance {
  on(
    event: 'response',
    fn: (client: unknown, status: number, bytes: number, ms: number) => void,
  ): void;
  on(event: 'done', fn: (result: AutocannonSummary) => void): void;
}

interface AutocannonSummary {
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses per one-second sample. */
  requests: { mean: number; stddev: number; min: number; max: number };
}

type Autocannon = (opts: AutocannonOptions, cb: (err: Error | null) => void) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const requestTimeoutS = 10;

function workloadRequest(spec: LoadSpec, counters: { allowed: number }): AutocannonRequest {
  const next = bodySource(spec.workload);
  return {
    method: 'POST',
    path: '/allow',
    headers: { 'content-type': 'application/json' },
    onResponse: (status, body) => {
      if (status === 200 && saysAllowed(body)) counters.allowed++;
    },
    setupRequest: (req) => {
      req.body = next();
      return req;
    },
  };
}

function runOnce(spec: LoadSpec, durationS: number): Promise<LoadResult> {
  const counters = { allowed: 0 };
  const latencyUs = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let responses = 0;
  let ok2xx = 0;
  const cpuStart = process.cpuUsage();
  const startedMs = performance.now();
  return new Promise((resolve, reject) => {
    const opts: AutocannonOptions = {
      url: spec.url,
      connections: spec.connections,
      pipelining: 1,
      duration: durationS,
      timeout: requestTimeoutS,
      requests: [workloadRequest(spec, counters)],
    };
    if (spec.overallRate !== undefined) opts.overallRate = spec.overallRate;
    const instance = autocannon(opts, (err) => {
      if (err) reject(err);
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      responses++;
      if (status < 200 || status > 299) return;
      ok2xx++;
      latencyUs.recordValue(Math.max(1, Math.round(ms * 1000)));
    });
    instance.on('done', (summary) => {
      const elapsedS = (performance.now() - startedMs) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      const atMs = (p: number): number => latencyUs.getValueAtPercentile(p) / 1000;
      resolve({
        spec,
        elapsedS,
        responses,
        ok2xx,
        non2xx: summary.non2xx,
        errors: summary.errors,
        timeouts: summary.timeouts,
        allowed: counters.allowed,
        decisionsPerS: ok2xx / elapsedS,
        perSecond: {
          min: summary.requests.min,
          max: summary.requests.max,
          stddev: summary.requests.stddev,
        },
        p50Ms: atMs(50),
        p99Ms: atMs(99),
        p999Ms: atMs(99.9),
        maxMs: latencyUs.maxValue / 1000,
        loadgenCpuS: (cpu.user + cpu.system) / 1e6,
      });
    });
  });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  exitWithParent(spec.warmupS * 1000 + spec.durationS * 1000 + 60_000, () => {});
  if (spec.warmupS > 0) await runOnce(spec, spec.warmupS);
  // The parent starts counting CPU (targets, machine) on this line.
  process.stdout.write('{"phase":"measure"}\n');
  const result = await runOnce(spec, spec.durationS);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`http-load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
