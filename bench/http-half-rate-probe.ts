/**
 * Who stalled during a half-rate run: taken by the parent at the generator's `{"phase":"measure"}`
 * line and again at its result. How long the generator's and the target's event-loop threads
 * waited for a CPU (run queue: the 2 cores are shared with everything else), and for drl the
 * leader's and a follower's own account (loop delay, fsyncs, decision time) from /metrics.
 */
import { processTree, runQueueSeconds } from './http-children.js';
import { type NodeWindow, nodeWindow, scrapeMetrics } from './http-drl-metrics.js';
import type { LiveTarget } from './http-targets.js';

export interface HalfRateProbe {
  /** ms the generator's main thread was runnable but not running, over the window. */
  generatorRunQueueMs: number;
  /** Summed over the main threads of every process of the target. */
  targetRunQueueMs: number;
  leaderRunQueueMs?: number;
  leader?: NodeWindow;
  follower?: NodeWindow;
}

type Scrapes = Promise<[string | undefined, string | undefined]>;

function scrapeBoth(target: LiveTarget): Scrapes {
  const hosts = target.metricsHosts?.() ?? {};
  const one = (h: string | undefined) => (h ? scrapeMetrics(h) : Promise.resolve(undefined));
  return Promise.all([one(hosts.leader), one(hosts.follower)]);
}

export function startProbe(target: LiveTarget, generatorPid: number | undefined) {
  const leaderPid = target.roles?.().leader;
  const targetPids = target.rootPids.flatMap((p) => processTree(p));
  const runQueue = () => ({
    generator: generatorPid === undefined ? 0 : runQueueSeconds(generatorPid),
    target: targetPids.reduce((s, p) => s + runQueueSeconds(p), 0),
    leader: leaderPid === undefined ? undefined : runQueueSeconds(leaderPid),
  });
  const before = runQueue();
  // Scraping resets drl's loop-delay histogram, so the second scrape covers the window only.
  const scrapesBefore = scrapeBoth(target);
  return {
    async end(): Promise<HalfRateProbe> {
      const after = runQueue();
      const [leaderAfter, followerAfter] = await scrapeBoth(target);
      const [leaderBefore, followerBefore] = await scrapesBefore;
      const probe: HalfRateProbe = {
        generatorRunQueueMs: (after.generator - before.generator) * 1000,
        targetRunQueueMs: (after.target - before.target) * 1000,
      };
      if (after.leader !== undefined && before.leader !== undefined) {
        probe.leaderRunQueueMs = (after.leader - before.leader) * 1000;
      }
      if (leaderBefore && leaderAfter) probe.leader = nodeWindow(leaderBefore, leaderAfter);
      if (followerBefore && followerAfter)
        probe.follower = nodeWindow(followerBefore, followerAfter);
      return probe;
    },
  };
}
