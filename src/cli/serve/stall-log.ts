/**
 * One warn line when the node's log fsync or its event loop stalls past `slowMs`, so a latency
 * spike can be told from the logs: the disk (a slow fsync), or anything else that held the loop
 * (GC, a snapshot, a SIGSTOP). At most one line per kind per second; the next line counts what
 * was left out. The metrics hold the distributions; this holds the moments.
 */
import type { Logger } from 'pino';

/** A stall at least this long is logged (the request timeout's order, 10x the p99 target). */
export const STALL_MS_DEFAULT = 100;
/** How often the loop's timer looks at the clock. */
const LOOP_CHECK_MS = 50;
/** At most one line per kind in this long. */
const LOG_GAP_MS = 1000;

type Kind = 'fsync' | 'loop';

export class StallLog {
  private lastCheckMs: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly lastLogMs: Record<Kind, number> = { fsync: -Infinity, loop: -Infinity };
  private readonly suppressed: Record<Kind, number> = { fsync: 0, loop: 0 };

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly slowMs = STALL_MS_DEFAULT,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.lastCheckMs = nowMs();
  }

  /** The log's write + fdatasync of one Ready took `ms` for `entries` entries. */
  fsync(ms: number, entries: number): void {
    if (ms >= this.slowMs) this.emit('fsync', { ms: Math.round(ms), entries }, 'slow log fsync');
  }

  start(): void {
    this.lastCheckMs = this.nowMs();
    this.timer = setInterval(() => this.checkLoop(), LOOP_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The timer's tick: how late it ran is how long the loop was held (exported for tests). */
  checkLoop(): void {
    const now = this.nowMs();
    const heldMs = now - this.lastCheckMs - LOOP_CHECK_MS;
    this.lastCheckMs = now;
    if (heldMs >= this.slowMs) this.emit('loop', { ms: Math.round(heldMs) }, 'event loop stalled');
  }

  private emit(kind: Kind, fields: Record<string, number>, message: string): void {
    const now = this.nowMs();
    if (now - this.lastLogMs[kind] < LOG_GAP_MS) {
      this.suppressed[kind]++;
      return;
    }
    this.lastLogMs[kind] = now;
    const left = this.suppressed[kind];
    this.suppressed[kind] = 0;
    this.logger.warn(left > 0 ? { ...fields, notLogged: left } : fields, message);
  }
}
