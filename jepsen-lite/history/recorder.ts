import type { AllowOp, AllowResult, HistoryLine, OpType } from './types.js';

/** Monotonic microseconds since `origin` (process.hrtime.bigint based). */
export function makeClockUs(origin: bigint = process.hrtime.bigint()): () => number {
  return () => Number((process.hrtime.bigint() - origin) / 1000n);
}

/**
 * Records operations in memory and forwards each line to an optional sink (the JSONL writer).
 * Time stamps come from one monotonic clock so invoke/complete order is real-time order.
 */
export class Recorder {
  readonly lines: HistoryLine[] = [];
  private readonly nowUs: () => number;
  private readonly sink: ((line: HistoryLine) => void) | undefined;
  private nextProcess = 0;

  constructor(nowUs: () => number, sink?: (line: HistoryLine) => void) {
    this.nowUs = nowUs;
    this.sink = sink;
  }

  /** A fresh process id: a worker takes a new one after an info op, as Jepsen does. */
  newProcess(): number {
    return this.nextProcess++;
  }

  now(): number {
    return this.nowUs();
  }

  invoke(process: number, op: AllowOp, node?: string): void {
    this.push({
      kind: 'op',
      process,
      type: 'invoke',
      op,
      timeUs: this.nowUs(),
      ...(node ? { node } : {}),
    });
  }

  complete(
    process: number,
    type: Exclude<OpType, 'invoke'>,
    op: AllowOp,
    outcome: { result?: AllowResult; error?: string; node?: string },
  ): void {
    this.push({ kind: 'op', process, type, op, timeUs: this.nowUs(), ...outcome });
  }

  push(line: HistoryLine): void {
    this.lines.push(line);
    this.sink?.(line);
  }
}
