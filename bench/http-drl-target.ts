/**
 * The real thing as a benchmark target: a 3-node `drl dev` group started the way `npm start`
 * does, with load sent to the leader's HTTP port (found through GET /cluster). When the built
 * CLI is missing or no leader shows up in time, the target is reported unavailable with a reason
 * instead of failing the whole benchmark.
 */
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnTracked, stopTree, type Tracked } from './http-children.js';
import { freeBasePort } from './http-ports.js';

export type DrlTarget =
  | {
      available: true;
      url: string;
      leader: string;
      /** The nodes' HTTP addresses, to find the leader again after a pause. */
      https: string[];
      tracked?: Tracked;
      stop: () => Promise<void>;
    }
  | { available: false; reason: string };

export interface DrlStart {
  /** The checkout whose dist/src/cli/main.js runs (this one, or --drl-base). */
  root: string;
  dataDir: string;
  /** `node --cpu-prof` into this directory; drl dev passes its execArgv to the nodes. */
  cpuProfDir?: string | undefined;
  /** Flags for every `drl serve` (after `drl dev ... --`). */
  serveArgs?: string[];
}

interface ClusterView {
  leader?: string | null;
  members?: { id: string; http?: string }[];
}

const nodes = 3;
const leaderWaitMsMax = 30_000;
const pollTimeoutMs = 500;
const pollGapMs = 250;
/** drl dev's layout: HTTP on base+1.., Raft on base+1001.. (src/cli/dev.ts). */
const portOffsets = [1, 2, 3, 1001, 1002, 1003];

async function fetchCluster(http: string): Promise<ClusterView | null> {
  try {
    const res = await fetch(`http://${http}/cluster`, {
      signal: AbortSignal.timeout(pollTimeoutMs),
    });
    return res.ok ? ((await res.json()) as ClusterView) : null;
  } catch {
    return null;
  }
}

/** The leader's id and HTTP address, or null while there is none (or it has no known HTTP). */
export async function findLeader(https: string[]): Promise<{ id: string; http: string } | null> {
  for (const http of https) {
    const view = await fetchCluster(http);
    if (!view?.leader) continue;
    const member = view.members?.find((m) => m.id === view.leader);
    const leaderHttp = member?.http ?? https[Number(view.leader.replace(/^n/, '')) - 1];
    if (leaderHttp) return { id: view.leader, http: leaderHttp };
  }
  return null;
}

/** An already running group (e.g. `npm start`): find its leader, start and stop nothing. */
export async function attachDrl(
  endpoints: string[],
): Promise<DrlTarget | { available: false; reason: string }> {
  const leader = await findLeader(endpoints);
  if (!leader) return { available: false, reason: `no leader among ${endpoints.join(',')}` };
  return {
    available: true,
    url: `http://${leader.http}`,
    leader: leader.id,
    https: endpoints,
    stop: async () => {},
  };
}

export async function startDrl(s: DrlStart): Promise<DrlTarget> {
  const cli = resolve(s.root, 'dist/src/cli/main.js');
  if (!existsSync(cli)) return { available: false, reason: `${cli} missing (npm run build)` };
  rmSync(s.dataDir, { recursive: true, force: true });
  const base = await freeBasePort(portOffsets);
  const args = [cli, 'dev', '--base-port', String(base), '--data', s.dataDir];
  if (s.cpuProfDir) {
    mkdirSync(s.cpuProfDir, { recursive: true });
    args.unshift('--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`);
  }
  if (s.serveArgs && s.serveArgs.length > 0) args.push('--', ...s.serveArgs);
  const tracked = spawnTracked(`drl dev (${s.root})`, process.execPath, args, { cwd: s.root });
  // The nodes' log lines (slow fsyncs, stalled loops, snapshots) for a look after the run.
  const logFile = createWriteStream(`${s.dataDir}.log`);
  // Two sources: neither may end the file (the first to end would cut the other's last lines).
  tracked.child.stdout?.pipe(logFile, { end: false });
  tracked.child.stderr?.pipe(logFile, { end: false });
  tracked.child.once('close', () => logFile.end());
  const https = Array.from({ length: nodes }, (_, i) => `127.0.0.1:${base + 1 + i}`);
  const deadline = Date.now() + leaderWaitMsMax;
  while (Date.now() < deadline && tracked.child.exitCode === null) {
    const leader = await findLeader(https);
    if (leader) {
      return {
        available: true,
        url: `http://${leader.http}`,
        leader: leader.id,
        https,
        tracked,
        // drl dev stops its nodes on SIGTERM; give them time to flush before SIGKILL.
        stop: () => stopTree(tracked, 10_000),
      };
    }
    await new Promise((r) => setTimeout(r, pollGapMs));
  }
  const exited = tracked.child.exitCode !== null;
  const tail = tracked.stderrTail.slice(-2).join(' | ');
  await stopTree(tracked, 10_000);
  const why = exited
    ? `drl dev exited (${tracked.child.exitCode})`
    : `no leader in ${leaderWaitMsMax} ms`;
  return { available: false, reason: tail ? `${why}: ${tail}` : why };
}
