/**
 * Bounds promises by one fixed timeout with a single timer: every bound gets the same timeout,
 * so deadlines grow in arrival order and a FIFO sweep finds the expired ones at its head. A
 * timer per request (setTimeout + clearTimeout: a Timeout object and two timer-list updates)
 * was ~1.5% of a leader's CPU on POST /allow, where every allowed decision waits for the log.
 */
import { DrlError } from '../errors.js';

interface Waiting {
  atMs: number;
  settled: boolean;
  reject: (err: unknown) => void;
}

/** Settled entries are dropped from the head; below this many the array is not compacted. */
const COMPACT_MIN = 1024;

export class DeadlineSweep {
  /** Passed slots are cleared: a settled entry holds its request's promise chain. */
  private fifo: (Waiting | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeoutMs: number) {
    if (!(timeoutMs > 0)) throw new Error(`deadline sweep: timeout ${timeoutMs} must be > 0`);
  }

  /**
   * Resolves like `work` (mapped by `map` when given: one promise less than a `.then` after),
   * or rejects with DrlError('unavailable') after the timeout.
   */
  bound<T, U = T>(work: Promise<T>, map?: (value: T) => U): Promise<U> {
    return new Promise<U>((resolve, reject) => {
      const w: Waiting = { atMs: performance.now() + this.timeoutMs, settled: false, reject };
      this.fifo.push(w);
      if (this.timer === null) this.arm(w.atMs);
      work.then(
        (value) => {
          // Already answered 'unavailable': too late to map (or to count) this answer.
          if (w.settled) return;
          w.settled = true;
          this.dropSettledHead();
          if (map === undefined) resolve(value as unknown as U);
          else {
            try {
              resolve(map(value));
            } catch (err) {
              reject(err);
            }
          }
        },
        (err: unknown) => {
          w.settled = true;
          this.dropSettledHead();
          reject(err);
        },
      );
    });
  }

  /** Waiting (unsettled or not yet dropped) entries: for tests. */
  get size(): number {
    return this.fifo.length - this.head;
  }

  /** Answers arrive about in arrival order: most settle at the head and leave at once. */
  private dropSettledHead(): void {
    const fifo = this.fifo;
    // Each passed slot is cleared at once: kept until the next slice, ~1,000-2,000 settled
    // requests (their promises, closures and replies) outlived a scavenge and were promoted.
    while (this.head < fifo.length && fifo[this.head]!.settled) fifo[this.head++] = undefined;
    if (this.head === fifo.length) {
      fifo.length = 0;
      this.head = 0;
      // Nothing left to time out: an armed timer would keep an idle process alive for seconds.
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    } else if (this.head >= COMPACT_MIN && this.head * 2 >= fifo.length) {
      this.fifo = fifo.slice(this.head);
      this.head = 0;
    }
  }

  private arm(atMs: number): void {
    const delay = Math.max(0, atMs - performance.now());
    this.timer = setTimeout(() => this.sweep(), Math.ceil(delay));
  }

  private sweep(): void {
    this.timer = null;
    const now = performance.now();
    const fifo = this.fifo;
    while (this.head < fifo.length) {
      const w = fifo[this.head]!;
      if (!w.settled) {
        if (w.atMs > now) break;
        w.settled = true;
        w.reject(new DrlError('unavailable', `no answer within ${this.timeoutMs} ms`));
      }
      fifo[this.head++] = undefined;
    }
    this.dropSettledHead();
    if (this.head < this.fifo.length) this.arm(this.fifo[this.head]!.atMs);
  }
}
