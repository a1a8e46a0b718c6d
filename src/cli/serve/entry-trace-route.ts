/**
 * `drl serve --test-mode --trace-entries` (hidden, diagnosis only): one TraceRecorder gets the
 * driver's per-entry Raft stages (entryTracer) and the /allow route's per-entry HTTP points
 * (allowTracer), and GET /test/entry-trace?lo=&hi= returns the recorded times of log indexes
 * lo..hi, so `npm run bench -- --trace` can join every node's stages by index. Times are
 * CLOCK_MONOTONIC ms (comparable across the processes of one machine), 0 = not reached.
 * Wiring only: the stages are the driver's, the points the API's.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { AllowTracer } from '../../api/index.js';
import { DrlError } from '../../errors.js';
import { monoMs, TraceRecorder, toMonoMs } from '../../raft/driver/entry-trace-recorder.js';
import type { SnapshotStats } from './limiter-state-machine.js';

/** Indexes remembered per stage: 32 s at 4,000 entries/s, 1 MB per stage. */
const capacity = 1 << 17;
/** Loop-blocking events remembered (fsyncs, GC pauses, snapshot steps): ~20 s at 4,000/s. */
const eventCapacity = 1 << 15;

/**
 * What held this node's event loop, as [start, end] intervals: a log fsync (the Ready's one
 * transaction), a GC pause, a snapshot's capture of the dirty records and its commit.
 */
export const traceEventKinds = ['fsync', 'gc', 'snapshot-capture', 'snapshot-commit'] as const;
export type TraceEventKind = (typeof traceEventKinds)[number];

/** Keys of the HTTP points next to the driver's stage keys ("0".."8", "5:<peer>"). */
export const httpTraceKeys = {
  entered: 'http.entered',
  decided: 'http.decided',
  written: 'http.written',
} as const;

export interface EntryTrace {
  id: string;
  /** Times of indexes lo..hi per key; a range larger than the rings is cut to its newest part. */
  lo: number;
  hi: number;
  stages: Record<string, number[]>;
  /** Every remembered event as [kind, start, end] (kind: a traceEventKinds name). */
  events: [TraceEventKind, number, number][];
}

export class EntryTraceWiring {
  readonly recorder = new TraceRecorder(capacity);

  readonly allowTracer: AllowTracer = {
    decided: (index, enteredMs, decidedMs) => {
      this.recorder.set(httpTraceKeys.entered, index, toMonoMs(enteredMs));
      this.recorder.set(httpTraceKeys.decided, index, toMonoMs(decidedMs));
    },
    written: (index, writtenMs) => {
      this.recorder.set(httpTraceKeys.written, index, toMonoMs(writtenMs));
    },
  };

  /** Ring of [kind code, start, end] triples. */
  private readonly events = new Float64Array(eventCapacity * 3);
  private eventCount = 0;
  private readonly gc: PerformanceObserver;

  constructor(private readonly id: string) {
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.event('gc', toMonoMs(e.startTime), toMonoMs(e.startTime + e.duration));
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
  }

  /** An interval during which the loop was held (monotonic ms). */
  event(kind: TraceEventKind, startMs: number, endMs: number): void {
    const at = (this.eventCount++ % eventCapacity) * 3;
    this.events[at] = traceEventKinds.indexOf(kind);
    this.events[at + 1] = startMs;
    this.events[at + 2] = endMs;
  }

  /** An interval of `durationMs` that ended just now (callbacks that report a duration). */
  endedNow(kind: TraceEventKind, durationMs: number): void {
    const end = monoMs();
    this.event(kind, end - durationMs, end);
  }

  /** A periodic snapshot committed: its capture (at its start) and commit (its end) steps. */
  snapshotWritten(totalMs: number, stats: SnapshotStats): void {
    const end = monoMs();
    const start = end - totalMs;
    this.event('snapshot-capture', start, start + stats.captureMs);
    this.event('snapshot-commit', end - stats.commitMs, end);
  }

  close(): void {
    this.gc.disconnect();
  }

  private eventList(): [TraceEventKind, number, number][] {
    const n = Math.min(this.eventCount, eventCapacity);
    const out: [TraceEventKind, number, number][] = [];
    const us = (t: number) => Math.round(t * 1000) / 1000;
    for (let k = this.eventCount - n; k < this.eventCount; k++) {
      const at = (k % eventCapacity) * 3;
      const kind = traceEventKinds[this.events[at]!]!;
      out.push([kind, us(this.events[at + 1]!), us(this.events[at + 2]!)]);
    }
    return out;
  }

  dump(lo: number, hi: number): EntryTrace {
    const from = Math.max(lo, hi - capacity + 1);
    // Microseconds are the clock's useful resolution here; shorter JSON.
    const stages = this.recorder.dump(from, hi);
    for (const key of Object.keys(stages)) {
      stages[key] = stages[key]!.map((t) => Math.round(t * 1000) / 1000);
    }
    return { id: this.id, lo: from, hi, stages, events: this.eventList() };
  }

  register(app: FastifyInstance): void {
    // The API's ajv does not coerce types, so the query's numbers are parsed here.
    app.get<{ Querystring: Record<string, string | undefined> }>(
      '/test/entry-trace',
      async (request) => {
        const lo = positiveIndex(request.query.lo, 'lo');
        const hi = positiveIndex(request.query.hi, 'hi');
        if (hi < lo) throw new DrlError('invalid_argument', `hi ${hi} < lo ${lo}`);
        return this.dump(lo, hi);
      },
    );
  }
}

function positiveIndex(raw: string | undefined, name: string): number {
  const n = Number(raw);
  if (raw === undefined || !/^[0-9]{1,15}$/.test(raw) || n < 1) {
    throw new DrlError('invalid_argument', `${name} must be a log index >= 1 (got ${raw})`);
  }
  return n;
}
