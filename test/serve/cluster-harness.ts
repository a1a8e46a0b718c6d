/**
 * Real `drl serve` processes on loopback for integration tests: free ports, a temp data dir
 * per node, kill -9 / SIGTERM / restart by pid, and small HTTP helpers. Every process is
 * stopped by the test's teardown; a watchdog kills leftovers if a test hangs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { freePort, freePortBlock } from '../free-port.js';

// Ports for the processes a test starts (shared with test/raft-io): see test/free-port.ts.
export { freePort, freePortBlock };

export const cliPath = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface NodeSpec {
  id: string;
  http: string;
  raft: string;
  data: string;
}

export interface ClusterOptions {
  nodes?: number;
  extraArgs?: (id: string) => string[];
  /** Nodes started with --join instead of --peers (ids beyond the initial group). */
  joiners?: number;
  /** The nodes serve https: requests go over https trusting this CA (PEM file). */
  tlsCa?: string;
  /** Sent as a bearer token on every harness request. */
  token?: string;
}

/** Log lines tests look for (the snapshot path), remembered per node. */
export const logMarkers = [
  'raft: snapshot installed',
  'raft: sending snapshot',
  'raft: completing an interrupted snapshot install',
];

export class Cluster {
  readonly specs: NodeSpec[] = [];
  readonly procs = new Map<string, ChildProcess>();
  readonly logs = new Map<string, string[]>();
  /** Which of logMarkers each node has logged (kept even when the log ring drops the line). */
  readonly marks = new Map<string, Set<string>>();
  readonly root: string;
  private readonly peers: string;

  private constructor(
    specs: NodeSpec[],
    root: string,
    private readonly o: ClusterOptions,
    initial: number,
  ) {
    this.specs = specs;
    this.root = root;
    this.peers = specs
      .slice(0, initial)
      .map((s) => `${s.id}=${s.raft}`)
      .join(',');
  }

  static async create(o: ClusterOptions = {}): Promise<Cluster> {
    if (!existsSync(cliPath)) throw new Error(`${cliPath} missing: run npm run build first`);
    const initial = o.nodes ?? 3;
    const total = initial + (o.joiners ?? 0);
    const root = mkdtempSync(join(tmpdir(), 'drl-it-'));
    const specs: NodeSpec[] = [];
    for (let i = 1; i <= total; i++) {
      const id = `n${i}`;
      specs.push({
        id,
        http: `127.0.0.1:${await freePort()}`,
        raft: `127.0.0.1:${await freePort()}`,
        data: join(root, id),
      });
    }
    const c = new Cluster(specs, root, o, initial);
    for (const s of specs.slice(0, initial)) c.start(s.id);
    return c;
  }

  spec(id: string): NodeSpec {
    const s = this.specs.find((x) => x.id === id);
    if (!s) throw new Error(`no node ${id}`);
    return s;
  }

  /** Starts (or restarts) a node; `env` is added to this process's environment. */
  start(id: string, join = false, env?: Record<string, string>): void {
    const s = this.spec(id);
    const args = [
      cliPath,
      'serve',
      '--id',
      id,
      '--data',
      s.data,
      '--http',
      s.http,
      '--raft',
      s.raft,
    ];
    args.push(...(join ? ['--join'] : ['--peers', this.peers]));
    args.push('--log-level', 'warn', ...(this.o.extraArgs?.(id) ?? []));
    const p = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    const log = this.logs.get(id) ?? [];
    this.logs.set(id, log);
    const marks = this.marks.get(id) ?? new Set<string>();
    this.marks.set(id, marks);
    let carry = '';
    const keep = (b: Buffer) => {
      const text = b.toString();
      // A line may be split between two chunks: scan with the end of the previous one.
      const scan = carry + text;
      carry = text.slice(-200);
      for (const m of logMarkers) if (scan.includes(m)) marks.add(m);
      log.push(text);
      if (log.length > 200) log.shift();
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    this.procs.set(id, p);
  }

  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = this.procs.get(id);
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill(signal);
    const code = await exited;
    this.procs.delete(id);
    return code;
  }

  /** Resolves with the exit code / signal of a node that is expected to die by itself. */
  async exited(id: string, timeoutMs: number): Promise<string> {
    const p = this.procs.get(id);
    if (!p) throw new Error(`${id} is not running`);
    const done =
      p.exitCode !== null || p.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => p.once('exit', () => r()));
    await Promise.race([done, sleep(timeoutMs)]);
    if (p.exitCode === null && p.signalCode === null) throw new Error(`${id} still running`);
    this.procs.delete(id);
    return String(p.signalCode ?? p.exitCode);
  }

  /** Whether `id` ever logged `text` (one of logMarkers, or a line still in the ring). */
  logged(id: string, text: string): boolean {
    if (this.marks.get(id)?.has(text)) return true;
    return (this.logs.get(id) ?? []).some((l) => l.includes(text));
  }

  alive(): string[] {
    return [...this.procs.keys()];
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.alive().map((id) => this.kill(id, 'SIGKILL')));
    await this.dispatcher?.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  url(id: string, path: string): string {
    return `${this.o.tlsCa ? 'https' : 'http'}://${this.spec(id).http}${path}`;
  }

  private dispatcher: Agent | undefined;

  private fetcher(): (url: string, init: RequestInit) => Promise<Response> {
    if (this.o.tlsCa === undefined) return fetch;
    this.dispatcher ??= new Agent({ connect: { ca: readFileSync(this.o.tlsCa) } });
    const dispatcher = this.dispatcher;
    return (url, init) =>
      undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
  }

  async request(
    id: string,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 5000,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (this.o.token !== undefined) headers.authorization = `Bearer ${this.o.token}`;
    const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs), headers };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await this.fetcher()(this.url(id, path), init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
  }

  /**
   * Polls until some live node reports itself leader, every node in `among` answers HTTP (a
   * node votes as soon as its Raft port is up, before its HTTP listens) and every one of them
   * the leader counts as a member names it as leader (a follower that has not heard from the
   * new leader yet answers 503 instead of forwarding), or time runs out.
   */
  async waitLeader(timeoutMs = 30_000, among = this.alive()): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const views = new Map<string, Record<string, unknown>>();
      for (const id of among) {
        try {
          views.set(id, (await this.request(id, 'GET', '/cluster', undefined, 500)).body);
        } catch {
          // not up yet
        }
      }
      const leader = among.find((id) => views.get(id)?.role === 'leader');
      if (leader !== undefined && views.size === among.length) {
        const members = (views.get(leader)!.members as Array<{ id: string }>).map((m) => m.id);
        const agreed = among.every(
          (id) => !members.includes(id) || views.get(id)!.leader === leader,
        );
        if (agreed) return leader;
      }
      await sleep(100);
    }
    throw new Error(
      `no leader among ${among.join(',')} within ${timeoutMs} ms\n${this.dumpLogs()}`,
    );
  }

  dumpLogs(): string {
    return [...this.logs].map(([id, l]) => `--- ${id}\n${l.join('').slice(-3000)}`).join('\n');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
