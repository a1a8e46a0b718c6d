// Micro-bench of the engine alone (no durability), reading Date.now() per call like the embedded
// class does. Rates are per CPU-second as well as per wall-second: on a shared, loaded machine the
// CPU figure is the stable one. Timing lives here, never in tests.
// Run: node --expose-gc --import tsx bench/limiter-engine.ts
import { type Algorithm, createLimiter } from '../src/limiter/index.js';

function rates(calls: number, wallMs: number, cpu: NodeJS.CpuUsage): string {
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return `${(calls / wallMs / 1e3).toFixed(2)} M/s wall, ${(calls / cpuS / 1e6).toFixed(2)} M/CPU-s`;
}

function hotKey(algorithm: Algorithm): void {
  const limiter = createLimiter();
  limiter.setRule(0, 'default', { limit: 100, windowMs: 1000, algorithm });
  const calls = 5_000_000;
  const origin = Date.now();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < calls; i++)
    if (limiter.allow(Date.now() - origin + 1, 'hot').allowed) allowed++;
  const line = rates(calls, performance.now() - t0, process.cpuUsage(c0));
  console.log(`hot key, limit 100/s, ${algorithm}: ${line} (${allowed} allowed)`);
}

function manyKeys(keys: number, passes: number): void {
  const limiter = createLimiter();
  limiter.setRule(0, 'default', { limit: 10, windowMs: 600_000 });
  // The floor: a Map.get per call on a 1M-key Map, with a fresh key string and a clock read.
  const floor = new Map<string, number>();
  for (let i = 0; i < keys; i++) floor.set(`user:${i}`, i);
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  let sum = 0;
  for (let i = 0; i < keys; i++) sum += floor.get(`user:${i}`)! + Date.now();
  console.log(
    `floor (Map.get + Date.now, ${keys} keys): ${rates(keys, performance.now() - t0, process.cpuUsage(c0))} (checksum ${sum % 997})`,
  );
  floor.clear();
  global.gc?.();
  const before = process.memoryUsage();
  // Key strings are built per call, as a server parsing requests would: the engine's copy counts.
  const origin = Date.now();
  c0 = process.cpuUsage();
  t0 = performance.now();
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < keys; i++) limiter.allow(Date.now() - origin + 1, `user:${i}`);
  }
  const line = rates(keys * passes, performance.now() - t0, process.cpuUsage(c0));
  global.gc?.();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  console.log(
    `${keys} keys round-robin x ${passes} grants (limit 10 / 10 min): ${line}; ` +
      `${(bytes / keys).toFixed(1)} bytes/key (heap + arrayBuffers after GC); keyCount ${limiter.keyCount}`,
  );
}

for (const algorithm of ['sliding-log', 'sliding-counter', 'token-bucket'] as Algorithm[]) {
  hotKey(algorithm);
}
manyKeys(1_000_000, 5);
