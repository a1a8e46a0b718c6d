import { randomFillSync } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import type { RaftNode } from '../src/raft/driver/index.js';
import { createPacer } from './raft-pacer.js';
import type { LoadTraceRecorder } from './raft-trace.js';

export interface LoadResult {
  committed: number;
  failed: number;
  elapsedMs: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /**
   * Fixed rate only: the same latencies measured from the propose() call instead of the
   * arrival time. The difference is the wait for this process's event loop to take the tick
   * (bench/raft-pacer.ts) and issue the entry.
   */
  fromIssue?: { p50Us: number; p99Us: number; p999Us: number };
  /**
   * Fixed rate only: measured from a uniform schedule (entry i due at i / rate) instead of its
   * 1 ms arrival tick: adds up to one tick that the generator, not the group, spent.
   */
  fromUniform?: { p50Us: number; p99Us: number; p999Us: number };
  /**
   * Fixed rate only: entry i arrived at startWallMs + arrivalMs(i, rate) (wallMs clock) and
   * committed latencyUs[i] later (-1: failed), for bench/raft-disk-stalls.ts.
   */
  schedule?: { startWallMs: number; ratePerSec: number; latencyUs: number[] };
  /** Fixed rate only: how late the pacer thread itself woke for its ticks (a CPU it waited for). */
  pacerLateUs?: { p99: number; max: number; raised: boolean };
  /** Mean number of the leader's fsyncs between an entry's propose() and its answer. */
  fsyncsWaitedPerEntry: number;
  firstError: string | null;
}

type Done = (err: Error | null, proposed: { index: number } | null) => void;

/**
 * The node's callback API when it has one (no promise per proposal in the generator either);
 * a build from before it (`BENCH_RAFT_MODULE`) gets the promise API behind the same shape.
 */
function proposer(node: RaftNode<number>): (data: Uint8Array, done: Done) => void {
  const n = node as RaftNode<number> & { proposeWith?: RaftNode<number>['proposeWith'] };
  if (typeof n.proposeWith === 'function') return (data, done) => n.proposeWith(data, done);
  return (data, done) => {
    node.propose(data).then(
      (p) => done(null, p),
      (err: Error) => done(err, null),
    );
  };
}

function payloads(entryBytes: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(randomFillSync(new Uint8Array(entryBytes)));
  return out;
}

function result(
  h: hdr.Histogram,
  committed: number,
  failed: number,
  elapsedMs: number,
  firstError: string | null,
  fsyncsWaited: number,
): LoadResult {
  return {
    fsyncsWaitedPerEntry: committed > 0 ? fsyncsWaited / committed : 0,
    committed,
    failed,
    elapsedMs,
    p50Us: h.getValueAtPercentile(50),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    maxUs: h.maxValue,
    firstError,
  };
}

/** Keeps `concurrency` proposals in flight for durationMs: the maximum commit rate. */
export function closedLoop(
  node: RaftNode<number>,
  syncs: () => number,
  durationMs: number,
  concurrency: number,
  entryBytes: number,
): Promise<LoadResult> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const propose = proposer(node);
  const data = payloads(entryBytes, 1024);
  const start = performance.now();
  const end = start + durationMs;
  let committed = 0;
  let failed = 0;
  let inflight = 0;
  let n = 0;
  let firstError: string | null = null;
  let fsyncsWaited = 0;
  return new Promise((resolve) => {
    const one = (): void => {
      const sent = performance.now();
      const syncsAtPropose = syncs();
      inflight++;
      // A fresh view per proposal: the driver recognizes its own entry by buffer identity.
      const d = data[n++ % data.length]!;
      propose(d.subarray(0), (err) => {
        if (err) {
          failed++;
          firstError ??= err.message;
        } else {
          committed++;
          fsyncsWaited += syncs() - syncsAtPropose;
          h.recordValue(Math.max(1, Math.round((performance.now() - sent) * 1000)));
        }
        next();
      });
    };
    const next = (): void => {
      inflight--;
      if (performance.now() < end) one();
      else if (inflight === 0)
        resolve(result(h, committed, failed, performance.now() - start, firstError, fsyncsWaited));
    };
    for (let i = 0; i < concurrency; i++) one();
  });
}

/**
 * When entry i arrives, in ms after the start: at each 1 ms tick, every entry a uniform
 * schedule (i / rate) put in the tick before it. Integer arithmetic: i * 0.1 is not always
 * below the next integer in floating point.
 */
export function arrivalMs(i: number, ratePerSec: number): number {
  return Math.ceil((i * 1000) / ratePerSec);
}

/**
 * Offers ratePerSec proposals for durationMs, on schedule whatever the replies do; latency is
 * measured from each proposal's arrival time (no coordinated omission). Arrivals come in 1 ms
 * ticks (arrivalMs) from a precise pacer thread (bench/raft-pacer.ts): the uniform schedule
 * at the resolution the generator can issue it. The uniform figure is printed beside it.
 */
export async function fixedRate(
  node: RaftNode<number>,
  syncs: () => number,
  durationMs: number,
  ratePerSec: number,
  entryBytes: number,
  trace?: LoadTraceRecorder,
): Promise<LoadResult> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const hIssue = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const hUniform = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const propose = proposer(node);
  const data = payloads(entryBytes, 1024);
  const total = Math.floor((durationMs / 1000) * ratePerSec);
  const intervalMs = 1000 / ratePerSec;
  const pacer = await createPacer();
  const pacerLate = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const startNs = process.hrtime.bigint();
  const start = performance.now();
  // The wallMs() clock (bench/raft-disk-stalls.ts), which the nodes' fsync times use too.
  const startWallMs = performance.timeOrigin + start;
  const latencyUs = new Array<number>(total).fill(-1);
  let issued = 0;
  let done = 0;
  let committed = 0;
  let failed = 0;
  let firstError: string | null = null;
  let fsyncsWaited = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (++done === total) {
        pacer.stop();
        const r = result(h, committed, failed, performance.now() - start, firstError, fsyncsWaited);
        r.fromIssue = {
          p50Us: hIssue.getValueAtPercentile(50),
          p99Us: hIssue.getValueAtPercentile(99),
          p999Us: hIssue.getValueAtPercentile(99.9),
        };
        r.fromUniform = {
          p50Us: hUniform.getValueAtPercentile(50),
          p99Us: hUniform.getValueAtPercentile(99),
          p999Us: hUniform.getValueAtPercentile(99.9),
        };
        r.schedule = { startWallMs, ratePerSec, latencyUs };
        r.pacerLateUs = {
          p99: pacerLate.getValueAtPercentile(99),
          max: pacerLate.maxValue,
          raised: pacer.raised,
        };
        resolve(r);
      }
    };
    const issue = (): void => {
      const tick = Math.floor(performance.now() - start);
      const due = Math.min(total, Math.floor((tick * ratePerSec) / 1000) + 1);
      // Bounded by `total`: at most the whole schedule in one call.
      for (; issued < due; issued++) {
        const scheduled = start + arrivalMs(issued, ratePerSec);
        const uniform = start + issued * intervalMs;
        const at = issued;
        const issuedAt = performance.now();
        const syncsAtPropose = syncs();
        propose(data[issued % data.length]!.subarray(0), (err, r) => {
          if (err) {
            failed++;
            firstError ??= err.message;
          } else {
            committed++;
            fsyncsWaited += syncs() - syncsAtPropose;
            const now = performance.now();
            trace?.done(r!.index, scheduled, issuedAt, now);
            latencyUs[at] = Math.max(1, Math.round((now - scheduled) * 1000));
            h.recordValue(latencyUs[at]);
            hIssue.recordValue(Math.max(1, Math.round((now - issuedAt) * 1000)));
            hUniform.recordValue(Math.max(1, Math.round((now - uniform) * 1000)));
          }
          finish();
        });
      }
      if (issued >= total) pacer.stop();
    };
    pacer.start(startNs, Math.ceil(durationMs) + 1, (_k, lateUs) => {
      pacerLate.recordValue(Math.max(1, Math.round(lateUs)));
      issue();
    });
    issue();
  });
}
