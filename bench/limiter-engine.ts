// Micro-bench of the engine alone (no clock read, no durability). Timing lives here, never in tests.
// Run: node --expose-gc --import tsx bench/limiter-engine.ts
import { createLimiter } from '../src/limiter/index.js';

function hotKey(): void {
  const limiter = createLimiter();
  limiter.setRule(0, 'default', { limit: 100, windowMs: 1000 });
  const n = 10_000_000;
  const t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    // ~5 decisions per ms of simulated time
    if (limiter.allow(1 + Math.floor(i / 5), 'hot').allowed) allowed++;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`hot key: ${(n / s / 1e6).toFixed(2)} M decisions/s (${allowed} allowed)`);
}

function manyKeys(keys: number, passes: number): void {
  const limiter = createLimiter();
  limiter.setRule(0, 'default', { limit: 10, windowMs: 600_000 });
  global.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  // Key strings are built per call, as a server parsing requests would: the engine's copy counts.
  let calls = 0;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < keys; i++) limiter.allow(1 + (calls++ >> 10), `user:${i}`);
  }
  const s = (performance.now() - t0) / 1000;
  global.gc?.();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  console.log(
    `${keys} keys x ${passes} grants: ${((keys * passes) / s / 1e6).toFixed(2)} M decisions/s, ` +
      `${(bytes / keys).toFixed(1)} bytes/key (heap+arrayBuffers delta, key strings counted), keyCount ${limiter.keyCount}`,
  );
}

hotKey();
manyKeys(1_000_000, 5);
