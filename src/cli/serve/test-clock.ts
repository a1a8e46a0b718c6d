/**
 * The clock a `drl serve` node reads: wall time seeded once at start, advanced by the
 * monotonic clock. Under `--test-mode --test-clock FILE` the file's JSON `{offsetMs, rate}` is
 * re-read when it changes (polled) and applied to both readings, so the harness can skew,
 * jump and speed up one node's time. A reading never decreases (a backwards jump stalls it):
 * callers may rely on monotonicity whatever the file says.
 */
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DrlError } from '../../errors.js';

export interface ClockSkew {
  offsetMs: number;
  rate: number;
}

export interface NodeClock {
  /** Monotonic ms (never decreases), in the node's own (possibly skewed) time. */
  monoMs(): number;
  /** Wall-clock ms since epoch: start wall time + monotonic progress. Never decreases. */
  wallMs(): number;
  close(): void;
}

const pollIntervalMs = 100;
const rateMin = 0.01;
const rateMax = 100;

export function parseSkew(text: string, file: string): ClockSkew {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DrlError('invalid_argument', `test clock ${file}: not JSON`);
  }
  const { offsetMs = 0, rate = 1 } = (raw ?? {}) as Partial<ClockSkew>;
  if (!Number.isFinite(offsetMs) || !Number.isFinite(rate) || rate < rateMin || rate > rateMax) {
    throw new DrlError(
      'invalid_argument',
      `test clock ${file}: need finite offsetMs, rate in [0.01, 100]`,
    );
  }
  return { offsetMs, rate };
}

/** Pure: skewed time given the real monotonic reading; rate changes are continuous. */
export class SkewedTime {
  private anchorRealMs: number;
  private anchorSkewedMs: number;
  private skew: ClockSkew = { offsetMs: 0, rate: 1 };
  private highMs = Number.NEGATIVE_INFINITY;

  constructor(realMs: number) {
    this.anchorRealMs = realMs;
    this.anchorSkewedMs = realMs;
  }

  set(next: ClockSkew, realMs: number): void {
    // Re-anchor so a rate change does not rewrite the past; an offset change jumps.
    this.anchorSkewedMs = this.rawAt(realMs) - this.skew.offsetMs;
    this.anchorRealMs = realMs;
    this.skew = next;
  }

  at(realMs: number): number {
    const v = this.rawAt(realMs);
    if (v > this.highMs) this.highMs = v;
    return this.highMs;
  }

  private rawAt(realMs: number): number {
    return this.anchorSkewedMs + (realMs - this.anchorRealMs) * this.skew.rate + this.skew.offsetMs;
  }
}

export function createNodeClock(testClockFile?: string): NodeClock {
  const wallStartMs = Date.now();
  const realStartMs = performance.now();
  const time = new SkewedTime(realStartMs);
  let timer: NodeJS.Timeout | undefined;
  if (testClockFile !== undefined) {
    let seenMtimeMs = -1;
    const poll = (): void => {
      try {
        const st = statSync(testClockFile);
        if (st.mtimeMs === seenMtimeMs) return;
        seenMtimeMs = st.mtimeMs;
        time.set(parseSkew(readFileSync(testClockFile, 'utf8'), testClockFile), performance.now());
      } catch (err) {
        // A missing or half-written file keeps the last skew; the harness rewrites it whole.
        if (err instanceof DrlError) process.emitWarning(err.message);
      }
    };
    poll();
    timer = setInterval(poll, pollIntervalMs);
    timer.unref();
  }
  const monoMs = (): number => time.at(performance.now());
  return {
    monoMs,
    wallMs: () => Math.floor(wallStartMs + (monoMs() - realStartMs)),
    close: () => clearInterval(timer),
  };
}
