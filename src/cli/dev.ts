/**
 * `drl dev` (what `npm start` runs): a 3-node group on loopback as three real `drl serve`
 * child processes, logs prefixed by node id, the leader and a ready-to-paste curl line printed
 * once the group is up, Ctrl-C (or SIGTERM) stopping all of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface DevOptions {
  /** HTTP ports are base+1.., Raft ports base+1001.. (8001-8003 and 9001-9003 by default). */
  basePort: number;
  data: string;
  nodes: number;
  /** The script that runs the `drl` CLI (this process's own entry point). */
  cliEntry: string;
  /** Extra flags passed to every `drl serve` (e.g. --token). */
  serveArgs: string[];
}

const leaderWaitMsMax = 30_000;
const stopWaitMsMax = 6_000;
const parentCheckMs = 500;

export function devLayout(o: Pick<DevOptions, 'basePort' | 'nodes'>) {
  return Array.from({ length: o.nodes }, (_, i) => ({
    id: `n${i + 1}`,
    http: `127.0.0.1:${o.basePort + 1 + i}`,
    raft: `127.0.0.1:${o.basePort + 1001 + i}`,
  }));
}

export async function runDev(o: DevOptions): Promise<number> {
  const layout = devLayout(o);
  const peers = layout.map((n) => `${n.id}=${n.raft}`).join(',');
  const children: ChildProcess[] = layout.map((n) => {
    const dir = resolve(o.data, n.id);
    mkdirSync(dir, { recursive: true });
    const args = [...process.execArgv, o.cliEntry, 'serve', '--id', n.id, '--data', dir];
    args.push('--http', n.http, '--raft', n.raft, '--peers', peers, ...o.serveArgs);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    prefixLines(child, n.id);
    return child;
  });
  let stopping = false;
  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    }, stopWaitMsMax).unref();
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  watchParent(stopAll);
  for (const c of children) c.on('exit', () => stopAll());
  void announceLeader(layout.map((n) => n.http));
  await Promise.all(children.map((c) => new Promise((r) => c.once('close', r))));
  return children.every((c) => c.exitCode === 0 || c.signalCode === 'SIGTERM') ? 0 : 1;
}

/**
 * Stops the group when the process that started this one is gone. `npm start` runs us under
 * `sh -c`: a SIGTERM to npm's pid ends npm and the shell, never reaching us, and the three
 * nodes would run on as orphans (seen with npm 11 on every Node version).
 */
function watchParent(stopAll: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      process.stderr.write('drl dev: the parent process exited; stopping the nodes\n');
      clearInterval(timer);
      stopAll();
    }
  }, parentCheckMs);
  timer.unref();
}

function prefixLines(child: ChildProcess, id: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    const out = stream === child.stdout ? process.stdout : process.stderr;
    createInterface({ input: stream }).on('line', (line) => out.write(`[${id}] ${line}\n`));
  }
}

/**
 * Prints "group up" once EVERY node answers and knows the leader: the printed curl (and the
 * README's) may go to any node, so a node still starting must not be the one it reaches.
 */
async function announceLeader(https: string[]): Promise<void> {
  const deadline = Date.now() + leaderWaitMsMax;
  while (Date.now() < deadline) {
    const leaders = await Promise.all(https.map(leaderSeenBy));
    const leader = leaders[0];
    if (leader && leaders.every((l) => l === leader)) {
      const curl = `curl -s -X POST http://${https[0]}/allow -H 'content-type: application/json' -d '{"key":"user:1","limit":5,"windowMs":10000}'`;
      process.stdout.write(`[dev] group up, leader ${leader}; try:\n[dev] ${curl}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stdout.write(`[dev] no leader after ${leaderWaitMsMax} ms\n`);
}

async function leaderSeenBy(http: string): Promise<string | null> {
  try {
    const res = await fetch(`http://${http}/cluster`, { signal: AbortSignal.timeout(500) });
    const body = (await res.json()) as { leader?: string | null };
    return res.ok && body.leader ? body.leader : null;
  } catch {
    return null; // not up yet
  }
}

export function defaultDataDir(): string {
  return join(process.cwd(), 'data');
}
