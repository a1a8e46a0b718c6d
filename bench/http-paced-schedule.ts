/**
 * The paced (open-loop) generator's arithmetic: request i of a run is due at i / rate after its
 * start, whatever the target answered so far, and its latency is counted from that due time
 * (coordinated omission), next to the time from its actual send (what the target and the
 * network took once the generator got the request out). Pure, so it is tested without load.
 */

/** How many requests of a schedule starting at 0 with this interval are due by elapsedMs. */
export function dueCount(elapsedMs: number, intervalMs: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor(elapsedMs / intervalMs) + 1);
}

/** When request i is due, in ms after the start. */
export const dueAtMs = (i: number, intervalMs: number): number => i * intervalMs;

/** One answered request's three intervals, in ms, from its due, send and answer times. */
export function timings(dueMs: number, sentMs: number, answeredMs: number) {
  return {
    /** What the caller of a rate-limited API would see: includes every generator delay. */
    fromDueMs: answeredMs - dueMs,
    /** Target + network + the generator's receive path. */
    fromSendMs: answeredMs - sentMs,
    /** How late the generator got the request out (timer, busy loop, no free connection). */
    sendDelayMs: sentMs - dueMs,
  };
}
