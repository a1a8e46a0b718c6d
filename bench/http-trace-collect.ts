/**
 * `--trace`: after drl's traced half-rate run, fetch every node's recorded stages for the log
 * indexes the generator saw (GET /test/entry-trace, `drl serve --test-mode --trace-entries`),
 * print the breakdown (bench/http-trace-report.ts) and keep the joined raw data in a file.
 */
import { writeFileSync } from 'node:fs';
import type { PacedTrace } from './http-load-types.js';
import type { SchedTimeline } from './http-sched-sampler.js';
import { type NodeTrace, traceReport } from './http-trace-report.js';

const fetchTimeoutMs = 30_000;

async function fetchNode(id: string, http: string, lo: number, hi: number): Promise<NodeTrace> {
  const res = await fetch(`http://${http}/test/entry-trace?lo=${lo}&hi=${hi}`, {
    signal: AbortSignal.timeout(fetchTimeoutMs),
  });
  if (!res.ok) throw new Error(`${id} ${http}: GET /test/entry-trace: ${res.status}`);
  return (await res.json()) as NodeTrace;
}

/** Report lines; the raw generator times and node stages go to `file`. */
export async function collectTrace(
  generator: PacedTrace,
  traced: { leader: string; nodes: { id: string; http: string }[] },
  sched: SchedTimeline[],
  file: string,
): Promise<string[]> {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const i of generator.index) {
    if (i <= 0) continue;
    if (i < lo) lo = i;
    if (i > hi) hi = i;
  }
  if (hi === 0) return ['trace: no answer named a log index'];
  const nodes = await Promise.all(traced.nodes.map((n) => fetchNode(n.id, n.http, lo, hi)));
  const input = { generator, nodes, leaderId: traced.leader, sched };
  writeFileSync(file, `${JSON.stringify(input)}\n`);
  return [...traceReport(input), `  raw trace: ${file}`];
}
