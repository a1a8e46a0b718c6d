/**
 * The per-decision counters of POST /allow as plain numbers, folded into prom-client's counters
 * when /metrics is scraped (their collect() hooks). prom-client's inc() builds and hashes the
 * label string on every call; a decision here is a Map lookup (cached per rule) and an add.
 */
import type { Counter } from 'prom-client';

interface RuleCounts {
  allowed: number;
  denied: number;
}

/** Distinct rules tallied before the table is flushed and cleared (bounds its memory). */
const rulesMax = 1024;

export class DecisionTally {
  private readonly byRule = new Map<string, RuleCounts>();
  private leaseServed = 0;

  constructor(
    private readonly decisions: Counter<'outcome' | 'rule'>,
    private readonly leaseServedCounter: Counter<string>,
  ) {}

  decided(rule: string, allowed: boolean, leaseServed: boolean): void {
    let counts = this.byRule.get(rule);
    if (counts === undefined) {
      if (this.byRule.size >= rulesMax) {
        this.flushDecisions();
        this.byRule.clear();
      }
      counts = { allowed: 0, denied: 0 };
      this.byRule.set(rule, counts);
    }
    if (allowed) counts.allowed++;
    else counts.denied++;
    if (leaseServed) this.leaseServed++;
  }

  /** Moves the decisions counted since the last flush into the prom-client counter. */
  flushDecisions(): void {
    for (const [rule, counts] of this.byRule) {
      if (counts.allowed > 0) this.decisions.inc({ outcome: 'allowed', rule }, counts.allowed);
      if (counts.denied > 0) this.decisions.inc({ outcome: 'denied', rule }, counts.denied);
      counts.allowed = 0;
      counts.denied = 0;
    }
  }

  flushLeaseServed(): void {
    if (this.leaseServed > 0) this.leaseServedCounter.inc(this.leaseServed);
    this.leaseServed = 0;
  }
}
