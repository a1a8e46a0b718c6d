import { randomFillSync } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import type { RaftNode } from '../src/raft/driver/index.js';
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
   * scheduled time. The difference is the generator's own lag: its 1 ms timer issues entries
   * up to ~1 ms after they were due, and later while this process's event loop is busy.
   */
  fromIssue?: { p50Us: number; p99Us: number; p999Us: number };
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
 * Offers ratePerSec proposals for durationMs, on schedule whatever the replies do; latency is
 * measured from each proposal's scheduled time (no coordinated omission).
 */
export function fixedRate(
  node: RaftNode<number>,
  syncs: () => number,
  durationMs: number,
  ratePerSec: number,
  entryBytes: number,
  trace?: LoadTraceRecorder,
): Promise<LoadResult> {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const hIssue = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 });
  const propose = proposer(node);
  const data = payloads(entryBytes, 1024);
  const total = Math.floor((durationMs / 1000) * ratePerSec);
  const intervalMs = 1000 / ratePerSec;
  const start = performance.now();
  let issued = 0;
  let done = 0;
  let committed = 0;
  let failed = 0;
  let firstError: string | null = null;
  let fsyncsWaited = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (++done === total) {
        clearInterval(timer);
        const r = result(h, committed, failed, performance.now() - start, firstError, fsyncsWaited);
        r.fromIssue = {
          p50Us: hIssue.getValueAtPercentile(50),
          p99Us: hIssue.getValueAtPercentile(99),
          p999Us: hIssue.getValueAtPercentile(99.9),
        };
        resolve(r);
      }
    };
    const issue = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      // Bounded by `total`: at most the whole schedule in one call.
      for (; issued < due; issued++) {
        const scheduled = start + issued * intervalMs;
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
            h.recordValue(Math.max(1, Math.round((now - scheduled) * 1000)));
            hIssue.recordValue(Math.max(1, Math.round((now - issuedAt) * 1000)));
          }
          finish();
        });
      }
      if (issued >= total) clearInterval(timer);
    };
    const timer = setInterval(issue, 1);
    issue();
  });
}
