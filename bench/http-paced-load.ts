/**
 * Open-loop ("paced") load generator (child process) for the half-rate latency row: request i is
 * due at start + i / rate whatever the target answered so far, and its latency is taken from its
 * *scheduled* time, so a stalled target or a late generator counts against the tail instead of
 * silently sending less (coordinated omission). Next to it: the latency from the actual send,
 * how late the sends were, and the generator's own loop delay, GC and CPU, so a tail that is the
 * generator's shows as such. Two clients: `raw` (default; keep-alive sockets written directly,
 * little CPU and garbage per request) and `undici` (the Pool this row used first, kept to
 * compare in the same run). autocannon's overallRate is not open loop: it paces each connection
 * per second and lets it burst, and times from the actual send.
 * A discarded warm-up at the same rate, then `{"phase":"measure"}`, then one PacedResult line.
 * Argv[2]: a PacedSpec as JSON.
 */
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { toMonoMs } from '../src/raft/driver/entry-trace-recorder.js';
import { answerIndex } from './http-answer-index.js';
import { exitWithParent } from './http-child-lifetime.js';
import { watchGenerator } from './http-generator-health.js';
import type { LatencyMs, PacedResult, PacedSpec, PacedTrace } from './http-load-types.js';
import { dueCount, timings } from './http-paced-schedule.js';
import { type RawAnswer, RawPool } from './http-raw-pool.js';
import { bodySource } from './http-workloads.js';

const requestTimeoutMs = 10_000;
/** Past this many requests due but not sent the target has stopped answering; drop the rest. */
const backlogMax = 20_000;
/** The schedule is checked this often (and on every answer); requests due meanwhile go out together. */
const pumpEveryMs = 1;
const allowedBytes = Buffer.from('"allowed":true');

/** What the schedule needs from a client: send now or say every connection is busy. */
interface Sender {
  send(body: string, tag: number): boolean;
  close(): Promise<void>;
}

interface Sink {
  /** `index`: the log index the answer named (traced runs only, else 0). */
  answer(
    tag: number,
    status: number,
    allowed: boolean,
    sentMs: number,
    answeredMs: number,
    index: number,
  ): void;
  error(tag: number): void;
}

async function rawSender(spec: PacedSpec, sink: Sink): Promise<Sender> {
  const pool = new RawPool(
    spec.url,
    spec.connections,
    (a: RawAnswer) =>
      sink.answer(
        a.tag,
        a.status,
        a.body.includes(allowedBytes),
        a.sentMs,
        a.answeredMs,
        spec.trace === true ? answerIndex(a.body) : 0,
      ),
    (tag) => sink.error(tag),
  );
  await pool.open();
  return {
    send: (body, tag) => pool.send(body, tag),
    close: async () => pool.close(),
  };
}

function undiciSender(spec: PacedSpec, sink: Sink): Sender {
  const pool = new Pool(spec.url, {
    connections: spec.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  return {
    // The pool queues a request when every connection is busy, so "sent" is when it was handed over.
    send: (body, tag) => {
      const sentMs = performance.now();
      pool
        .request({
          path: '/allow',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: requestTimeoutMs,
          bodyTimeout: requestTimeoutMs,
        })
        .then(async (res) => {
          const text = await res.body.text();
          sink.answer(
            tag,
            res.statusCode,
            text.includes('"allowed":true'),
            sentMs,
            performance.now(),
            0,
          );
        })
        .catch(() => sink.error(tag));
      return true;
    },
    close: () => pool.close().catch(() => {}),
  };
}

const histogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

const toUs = (ms: number): number => Math.max(1, Math.round(ms * 1000));

function summary(h: hdr.Histogram): LatencyMs {
  const at = (p: number): number => h.getValueAtPercentile(p) / 1000;
  return { p50: at(50), p99: at(99), p999: at(99.9), max: h.maxValue / 1000 };
}

class Phase {
  scheduled = 0;
  dropped = 0;
  ok2xx = 0;
  non2xx = 0;
  errors = 0;
  allowed = 0;
  settled = 0;
  readonly fromDue = histogram();
  readonly fromSend = histogram();
  readonly sendDelay = histogram();
}

/** `--trace`: every request's due, send and answer times (performance.now) and log index. */
class TraceRows {
  readonly due: Float64Array;
  readonly sent: Float64Array;
  readonly answered: Float64Array;
  readonly index: Float64Array;

  constructor(total: number) {
    this.due = new Float64Array(total);
    this.sent = new Float64Array(total);
    this.answered = new Float64Array(total);
    this.index = new Float64Array(total);
  }

  /** As CLOCK_MONOTONIC ms (0 stays 0: never answered), to join with the nodes' stages. */
  take(): PacedTrace {
    const mono = (a: Float64Array) =>
      Array.from(a, (t) => (t === 0 ? 0 : Math.round(toMonoMs(t) * 1000) / 1000));
    return {
      due: mono(this.due),
      sent: mono(this.sent),
      answered: mono(this.answered),
      index: Array.from(this.index),
    };
  }
}

/** One run at spec.ratePerS for durationS; resolves once every request is answered or timed out. */
async function runPhase(
  client: Sender,
  route: (sink: Sink) => void,
  spec: PacedSpec,
  durationS: number,
  traced: boolean,
): Promise<{ phase: Phase; elapsedS: number; trace?: PacedTrace }> {
  const next = bodySource(spec.workload);
  const phase = new Phase();
  const intervalMs = 1000 / spec.ratePerS;
  const total = Math.max(1, Math.round(durationS * spec.ratePerS));
  const rows = traced ? new TraceRows(total) : null;
  let startMs = 0;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => (finish = r));
  const settle = (): void => {
    if (++phase.settled === total) finish();
  };

  const sink: Sink = {
    answer: (tag, status, allowed, sentMs, answeredMs, index) => {
      const t = timings(startMs + tag * intervalMs, sentMs, answeredMs);
      if (rows !== null && tag < total) {
        rows.due[tag] = startMs + tag * intervalMs;
        rows.sent[tag] = sentMs;
        rows.answered[tag] = answeredMs;
        rows.index[tag] = index;
      }
      if (status >= 200 && status < 300) {
        phase.ok2xx++;
        if (allowed) phase.allowed++;
        phase.fromDue.recordValue(toUs(t.fromDueMs));
        phase.fromSend.recordValue(toUs(t.fromSendMs));
      } else phase.non2xx++;
      phase.sendDelay.recordValue(toUs(t.sendDelayMs));
      settle();
      // A connection is free again: requests waiting for one go out now, not at the next tick.
      if (sent < phase.scheduled) pump();
    },
    error: (tag) => {
      phase.errors++;
      if (tag >= 0) settle();
    },
  };

  const pump = (): void => {
    const nowMs = performance.now();
    const due = dueCount(nowMs - startMs, intervalMs, total);
    phase.scheduled = due;
    while (sent < due) {
      if (due - sent > backlogMax) {
        phase.dropped++;
        sent++;
        settle();
        continue;
      }
      if (!client.send(next(), sent)) break;
      sent++;
    }
  };
  const tick = (): void => {
    pump();
    if (phase.scheduled < total) timer = setTimeout(tick, pumpEveryMs);
  };

  route(sink);
  startMs = performance.now();
  tick();
  let bound: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => {
    bound = setTimeout(() => r(true), durationS * 1000 + requestTimeoutMs);
  });
  const late = await Promise.race([done.then(() => false), timedOut]);
  clearTimeout(timer);
  clearTimeout(bound);
  // Unanswered requests after the bound count as errors (a stuck target, not a slow one).
  if (late) phase.errors += total - phase.settled;
  const elapsedS = (performance.now() - startMs) / 1000;
  return rows === null ? { phase, elapsedS } : { phase, elapsedS, trace: rows.take() };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as PacedSpec;
  const lifetimeMs = (spec.warmupS + spec.durationS) * 1000 + 2 * requestTimeoutMs + 30_000;
  // One client for warm-up and measured run (its connections stay open); answers go to the
  // phase that is running.
  let current: Sink | undefined;
  const sink: Sink = {
    answer: (...a) => current?.answer(...a),
    error: (tag) => current?.error(tag),
  };
  const route = (s: Sink): void => {
    current = s;
  };
  const client = spec.client === 'undici' ? undiciSender(spec, sink) : await rawSender(spec, sink);
  exitWithParent(lifetimeMs, () => client.close());
  if (spec.trace === true && spec.client === 'undici') {
    throw new Error('trace: the raw client only (it reads each answer body)');
  }
  if (spec.warmupS > 0) await runPhase(client, route, spec, spec.warmupS, false);
  // The parent starts counting CPU (targets, machine) on this line.
  process.stdout.write('{"phase":"measure"}\n');
  const health = watchGenerator();
  const { phase, elapsedS, trace } = await runPhase(
    client,
    route,
    spec,
    spec.durationS,
    spec.trace === true,
  );
  const generator = health();
  const fromDue = summary(phase.fromDue);
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
    p50Ms: fromDue.p50,
    p99Ms: fromDue.p99,
    p999Ms: fromDue.p999,
    maxMs: fromDue.max,
    fromSend: summary(phase.fromSend),
    sendDelay: summary(phase.sendDelay),
    sendLagMsMax: phase.sendDelay.maxValue / 1000,
    generator,
    loadgenCpuS: generator.cpuS,
    ...(trace ? { trace } : {}),
  };
  // A pipe is written asynchronously: a traced result (a few MB) must be flushed before exit.
  await new Promise<void>((resolve) =>
    process.stdout.write(`${JSON.stringify(result)}\n`, () => resolve()),
  );
  await client.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`http-paced-load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
