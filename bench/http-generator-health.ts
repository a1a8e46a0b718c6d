/**
 * How much the load generator itself stalled while it measured: its event-loop delay (a timer
 * due every millisecond, perf_hooks' monitorEventLoopDelay), its garbage-collection pauses and
 * its CPU. An open-loop generator times each request from its scheduled send, so every stall of
 * its own (GC, being descheduled, a long burst of sends) lands in the target's tail unless it is
 * printed next to it.
 */
import { type EntryType, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { GeneratorStats } from './http-load-types.js';

/** Starts watching; the returned function stops and reports. */
export function watchGenerator(): () => GeneratorStats {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc' as EntryType] });
  loop.enable();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  return () => {
    loop.disable();
    observer.disconnect();
    const cpu = process.cpuUsage(cpuStart);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const wallS = (performance.now() - wallStart) / 1000;
    // The monitor's values are ns and include the 1 ms resolution itself.
    const pastResolution = (ns: number): number => Math.max(0, ns / 1e6 - 1);
    return {
      loopDelayP99Ms: pastResolution(loop.percentile(99)),
      loopDelayMaxMs: pastResolution(loop.max),
      gcCount: gc.count,
      gcTotalMs: gc.totalMs,
      gcMaxMs: gc.maxMs,
      cpuCores: wallS > 0 ? cpuS / wallS : 0,
      cpuS,
    };
  };
}
