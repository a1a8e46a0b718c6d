/**
 * The obviously-correct sequential sliding-window log used to generate correct histories.
 * Deliberately written differently from the checker's model (a flat list, no intervals).
 */
export interface RefDecision {
  allowed: boolean;
  remaining: number;
}

export class ReferenceLimiter {
  private readonly grants = new Map<string, { ts: number; cost: number; windowMs: number }[]>();

  decide(key: string, limit: number, windowMs: number, cost: number, ts: number): RefDecision {
    const list = this.grants.get(key) ?? [];
    let used = 0;
    for (const g of list)
      if (ts - g.ts < Math.min(windowMs, g.windowMs) && g.ts <= ts) used += g.cost;
    if (used + cost <= limit) {
      list.push({ ts, cost, windowMs });
      // Drop what can never count again.
      this.grants.set(
        key,
        list.filter((g) => ts - g.ts < g.windowMs),
      );
      return { allowed: true, remaining: limit - used - cost };
    }
    return { allowed: false, remaining: Math.max(0, limit - used) };
  }
}
