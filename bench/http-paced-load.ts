/**
 * Open-loop ("paced") load generator (child process) for the half-rate latency row: request i is
 * due at start + i / rate whatever the target answered so far, sent over an undici Pool of
 * keep-alive connections (a request waits in the pool's queue when every connection is busy),
 * and its latency is taken from its *scheduled* time, so a stalled target or a late generator
 * counts against the tail instead of silently sending less (coordinated omission). autocannon's
 * overallRate is not this: it paces each connection per second and lets it burst.
 * A discarded warm-up at the same rate, then `{"phase":"measure"}`, then one PacedResult line.
 * Argv[2]: a PacedSpec as JSON.
 */
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { exitWithParent } from './http-child-lifetime.js';
import type { PacedResult, PacedSpec } from './http-load-types.js';
import { bodySource, saysAllowed } from './http-workloads.js';

const requestTimeoutMs = 10_000;
/** Past this many requests in flight the target has stopped answering; stop piling on. */
const outstandingMax = 20_000;
/** The schedule is checked this often; requests due meanwhile go out together, timed as due. */
const pumpEveryMs = 1;

interface Phase {
  scheduled: number;
  dropped: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  allowed: number;
  sendLagMsMax: number;
  latencyUs: hdr.Histogram | null;
}

/** How many requests of a schedule starting at 0 with this interval are due by elapsedMs. */
export function dueCount(elapsedMs: number, intervalMs: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor(elapsedMs / intervalMs) + 1);
}

function runPhase(pool: Pool, spec: PacedSpec, durationS: number, record: boolean) {
  const next = bodySource(spec.workload);
  const phase: Phase = {
    scheduled: 0,
    dropped: 0,
    ok2xx: 0,
    non2xx: 0,
    errors: 0,
    allowed: 0,
    sendLagMsMax: 0,
    latencyUs: record
      ? hdr.build({
          lowestDiscernibleValue: 1,
          highestTrackableValue: 60_000_000,
          numberOfSignificantValueDigits: 3,
        })
      : null,
  };
  const intervalMs = 1000 / spec.ratePerS;
  const total = Math.max(1, Math.round(durationS * spec.ratePerS));
  const startMs = performance.now();
  let sent = 0;
  let outstanding = 0;
  let settle: () => void = () => {};
  const allAnswered = new Promise<void>((r) => (settle = r));
  const maybeDone = (): void => {
    if (sent === total && outstanding === 0) settle();
  };

  const send = (dueMs: number): void => {
    outstanding++;
    pool
      .request({
        path: '/allow',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: next(),
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
      })
      .then(async (res) => {
        const text = await res.body.text();
        const latencyMs = performance.now() - dueMs;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          phase.ok2xx++;
          if (saysAllowed(text)) phase.allowed++;
          phase.latencyUs?.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
        } else phase.non2xx++;
      })
      .catch(() => {
        phase.errors++;
      })
      .finally(() => {
        outstanding--;
        maybeDone();
      });
  };

  const pump = (): void => {
    const nowMs = performance.now();
    const due = dueCount(nowMs - startMs, intervalMs, total);
    for (; sent < due; sent++) {
      const dueMs = startMs + sent * intervalMs;
      phase.sendLagMsMax = Math.max(phase.sendLagMsMax, nowMs - dueMs);
      if (outstanding >= outstandingMax) phase.dropped++;
      else send(dueMs);
    }
    phase.scheduled = sent;
    if (sent < total) setTimeout(pump, pumpEveryMs);
    else maybeDone();
  };
  pump();
  return allAnswered.then(() => ({ phase, elapsedS: (performance.now() - startMs) / 1000 }));
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as PacedSpec;
  const lifetimeMs = (spec.warmupS + spec.durationS) * 1000 + 2 * requestTimeoutMs + 30_000;
  const pool = new Pool(spec.url, {
    connections: spec.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  exitWithParent(lifetimeMs, () => pool.destroy());
  if (spec.warmupS > 0) await runPhase(pool, spec, spec.warmupS, false);
  // The parent starts counting CPU (targets, machine) on this line.
  process.stdout.write('{"phase":"measure"}\n');
  const cpuStart = process.cpuUsage();
  const { phase, elapsedS } = await runPhase(pool, spec, spec.durationS, true);
  const cpu = process.cpuUsage(cpuStart);
  const h = phase.latencyUs!;
  const atMs = (p: number): number => h.getValueAtPercentile(p) / 1000;
  const result: PacedResult = {
    spec,
    elapsedS,
    scheduled: phase.scheduled,
    dropped: phase.dropped,
    ok2xx: phase.ok2xx,
    non2xx: phase.non2xx,
    errors: phase.errors,
    allowed: phase.allowed,
    achievedPerS: phase.ok2xx / elapsedS,
    p50Ms: atMs(50),
    p99Ms: atMs(99),
    p999Ms: atMs(99.9),
    maxMs: h.maxValue / 1000,
    sendLagMsMax: phase.sendLagMsMax,
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await pool.close().catch(() => {});
  process.exit(0);
}

// Run only as a child (argv[2] is the spec), so a test can import dueCount.
if (process.argv[2]?.startsWith('{')) {
  main().catch((err: unknown) => {
    process.stderr.write(`http-paced-load: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
