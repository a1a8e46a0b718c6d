import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { httpJson } from './http.js';
import { ProxyMesh } from './proxy-mesh.js';

/**
 * N real `drl serve` processes (contract flags, --test-mode), each dialing its peers through
 * the proxy mesh, each with its own --test-clock file.
 */
export interface NodeHandle {
  id: string;
  httpPort: number;
  raftPort: number;
  dataDir: string;
  clockFile: string;
  child: ChildProcess | null;
  paused: boolean;
  /** Re-added by a membership change: restarts use --join (never re-bootstrap with --peers). */
  joined: boolean;
  /** The serve arguments of the latest start (what a restart really ran). */
  lastArgs: string[];
  /** The runner is stopping or killing this process: its exit is no crash. */
  exitExpected: boolean;
  /** The process's last output line (what a crash said). */
  lastLine: string;
}

/** A node process that exited without the runner stopping or killing it. */
export interface NodeCrash {
  node: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  lastLine: string;
}

export interface ClusterOptions {
  nodes: number;
  baseDir: string;
  /** Path of dist/src/cli/main.js. */
  cliPath: string;
  testBugs?: string[];
  /** Extra node flags before the script (e.g. ['--import', 'tsx'] for a TypeScript stand-in). */
  nodeArgs?: string[];
  /**
   * `drl serve --snapshot-every` (default 2,000). drl's own default (at most 100,000 entries,
   * sooner for many keys) would take one or two snapshots in a run on a few keys: 2,000 keeps
   * snapshots, log compaction and catch-up by snapshot under the faults.
   */
  snapshotEvery?: number;
  onLog?: (node: string, line: string) => void;
  /** A node process exited on its own (a crash, or a refusal to start). */
  onCrash?: (crash: NodeCrash) => void;
}

export interface ClusterStatus {
  id: string;
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
}

export function writeClockFile(path: string, offsetMs: number, rate: number): void {
  // Atomic replace: the node re-reads the file when it changes and must never see half of it.
  writeFileSync(`${path}.tmp`, JSON.stringify({ offsetMs, rate }));
  renameSync(`${path}.tmp`, path);
}

export class Cluster {
  readonly nodes: NodeHandle[];
  readonly mesh: ProxyMesh;
  /** Every node process started, so a caller can check none outlives stop(). */
  readonly spawnedPids: number[] = [];
  private readonly options: ClusterOptions;

  private constructor(nodes: NodeHandle[], mesh: ProxyMesh, options: ClusterOptions) {
    this.nodes = nodes;
    this.mesh = mesh;
    this.options = options;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const nodes: NodeHandle[] = [];
    for (let i = 1; i <= options.nodes; i++) {
      const id = `n${i}`;
      const dataDir = join(options.baseDir, id);
      mkdirSync(dataDir, { recursive: true });
      const clockFile = join(options.baseDir, `${id}.clock.json`);
      writeClockFile(clockFile, 0, 1);
      nodes.push({
        id,
        httpPort: await freePort(),
        raftPort: await freePort(),
        dataDir,
        clockFile,
        child: null,
        paused: false,
        joined: false,
        lastArgs: [],
        exitExpected: false,
        lastLine: '',
      });
    }
    const mesh = await ProxyMesh.start(new Map(nodes.map((n) => [n.id, n.raftPort])));
    const cluster = new Cluster(nodes, mesh, options);
    for (const n of nodes) cluster.spawnNode(n, false);
    return cluster;
  }

  node(id: string): NodeHandle {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  url(id: string): string {
    return `http://127.0.0.1:${this.node(id).httpPort}`;
  }

  spawnNode(n: NodeHandle, join: boolean): void {
    const args = [
      ...(this.options.nodeArgs ?? []),
      this.options.cliPath,
      'serve',
      '--id',
      n.id,
      '--data',
      n.dataDir,
      '--http',
      `127.0.0.1:${n.httpPort}`,
      '--raft',
      `127.0.0.1:${n.raftPort}`,
      // serve refuses --join with --peers: a joining node dials its peers at their replicated
      // (real) addresses, bypassing the proxies, until restartThroughProxies.
      ...(join ? ['--join'] : ['--peers', this.mesh.peersFor(n.id)]),
      '--test-mode',
      '--test-clock',
      n.clockFile,
      '--snapshot-every',
      String(this.options.snapshotEvery ?? 2000),
    ];
    if (this.options.testBugs && this.options.testBugs.length > 0)
      args.push('--test-bugs', this.options.testBugs.join(','));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) this.spawnedPids.push(child.pid);
    n.lastArgs = args;
    const log = (data: Buffer): void => {
      for (const line of data.toString().split('\n')) {
        if (!line) continue;
        n.lastLine = line;
        this.options.onLog?.(n.id, line);
      }
    };
    child.stdout?.on('data', log);
    child.stderr?.on('data', log);
    child.on('exit', (code, signal) => {
      if (n.child === child) n.child = null;
      if (!n.exitExpected)
        this.options.onCrash?.({ node: n.id, code, signal, lastLine: n.lastLine });
    });
    n.child = child;
    n.paused = false;
    n.exitExpected = false;
    n.lastLine = '';
  }

  signal(id: string, signal: NodeJS.Signals): void {
    const n = this.node(id);
    if (n.child?.pid === undefined) return;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') n.exitExpected = true;
    process.kill(n.child.pid, signal);
    if (signal === 'SIGSTOP') n.paused = true;
    if (signal === 'SIGCONT') n.paused = false;
  }

  async kill(id: string): Promise<void> {
    const n = this.node(id);
    const child = n.child;
    if (child === null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (n.paused) this.signal(id, 'SIGCONT');
    this.signal(id, 'SIGKILL');
    await exited;
  }

  restart(id: string): void {
    const n = this.node(id);
    // A node that joined restarts with --join: with --peers and a log that may still be empty
    // it would bootstrap a second group (seen in campaign seed 42: a split brain at index 9).
    if (n.child === null) this.spawnNode(n, n.joined);
  }

  /** Wipes a node (after it was removed from the group) so it can join as new. */
  async wipeAndJoin(id: string): Promise<void> {
    await this.kill(id);
    const n = this.node(id);
    rmSync(n.dataDir, { recursive: true, force: true });
    mkdirSync(n.dataDir, { recursive: true });
    n.joined = true;
    this.spawnNode(n, true);
  }

  /**
   * A node started with --join dials its peers at their replicated (real) addresses, so its
   * outgoing links bypass the proxies. Once it holds a log (applied > 0: what it applied is
   * durable, so --peers cannot re-bootstrap it), restart it gracefully with --peers so every
   * link goes through its proxy again. Returns false (node left as is) if it does not catch
   * up within timeoutMs.
   */
  async restartThroughProxies(id: string, timeoutMs: number): Promise<boolean> {
    const n = this.node(id);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(id);
      if (s !== null && s.appliedIndex > 0) break;
      if (Date.now() > deadline || n.child === null) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (n.child === null) return false;
    await this.terminate(n);
    n.joined = false;
    this.spawnNode(n, false);
    return true;
  }

  setClock(id: string, offsetMs: number, rate: number): void {
    writeClockFile(this.node(id).clockFile, offsetMs, rate);
  }

  async status(id: string, timeoutMs = 500): Promise<ClusterStatus | null> {
    try {
      const res = await httpJson('GET', `${this.url(id)}/cluster`, undefined, timeoutMs);
      return res.status === 200 ? (res.body as ClusterStatus) : null;
    } catch {
      return null;
    }
  }

  async leader(): Promise<string | null> {
    const statuses = await Promise.all(this.nodes.map((n) => this.status(n.id)));
    const leader = statuses.find((s) => s?.role === 'leader');
    return leader?.id ?? null;
  }

  async waitForLeader(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leader = await this.leader();
      if (leader !== null) return leader;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no leader within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    this.mesh.healAll();
    await Promise.all(this.nodes.map((n) => this.terminate(n)));
    await this.mesh.close();
  }

  /** A graceful stop (SIGTERM, SIGKILL after 5 s), waited for; no crash is reported. */
  private async terminate(n: NodeHandle): Promise<void> {
    const child = n.child;
    if (child === null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (n.paused) this.signal(n.id, 'SIGCONT');
    this.signal(n.id, 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
