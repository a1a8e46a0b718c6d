/**
 * Response headers for a decision, per draft-ietf-httpapi-ratelimit-headers-10:
 *   RateLimit-Policy: "<rule>";q=<limit>;w=<window seconds>
 *   RateLimit:        "<rule>";r=<remaining>;t=<seconds until the window holds nothing>
 * plus the legacy RateLimit-Limit / -Remaining / -Reset trio still widely read, and
 * Retry-After (whole seconds, rounded up) on a denial that can ever succeed.
 * Seconds are rounded up so a client that waits them never comes back early.
 */
import type { AllowResponse } from './service.js';

/** Printable ASCII without `"` or `\`: usable inside an sf-string as-is. */
const plainSfString = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** An RFC 8941 sf-string for a policy name (non-ASCII bytes become `?`; the draft allows any id). */
export function sfString(value: string): string {
  if (plainSfString.test(value)) return `"${value}"`;
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0x3f;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else out += c >= 0x20 && c <= 0x7e ? ch : '?';
  }
  return `${out}"`;
}

export function ceilSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}

export interface HeaderSink {
  header(name: string, value: string | number): unknown;
}

/** The last rule's sf-string: consecutive decisions nearly always share a rule. */
let lastRule = 'default';
let lastRuleId = sfString(lastRule);

export function setRateLimitHeaders(reply: HeaderSink, rule: string, d: AllowResponse): void {
  if (rule !== lastRule) {
    lastRuleId = sfString(rule);
    lastRule = rule;
  }
  const id = lastRuleId;
  const resetSeconds = ceilSeconds(d.resetMs);
  reply.header(
    'ratelimit-policy',
    d.windowMs === undefined
      ? `${id};q=${d.limit}`
      : `${id};q=${d.limit};w=${Math.max(1, ceilSeconds(d.windowMs))}`,
  );
  reply.header('ratelimit', `${id};r=${d.remaining};t=${resetSeconds}`);
  reply.header('ratelimit-limit', d.limit);
  reply.header('ratelimit-remaining', d.remaining);
  reply.header('ratelimit-reset', resetSeconds);
  // retryAfterMs null: this cost never fits, so there is no time worth advertising.
  if (!d.allowed && d.retryAfterMs !== null) {
    reply.header('retry-after', Math.max(1, ceilSeconds(d.retryAfterMs)));
  }
}
