/**
 * Real `drl serve` processes on loopback for integration tests: free ports, a temp data dir
 * per node, kill -9 / SIGTERM / restart by pid, and small HTTP helpers. Every process is
 * stopped by the test's teardown; a watchdog kills leftovers if a test hangs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';

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

function canBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * A free port BELOW the kernel's ephemeral range (32768+): a port the kernel handed out for
 * port 0 can be taken again by any outgoing connection (or another test file) before the node
 * binds it, and a node that fails to bind leaves its port to a stranger. Random, so parallel
 * test files rarely meet; checked bindable.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port below 32000');
}

export class Cluster {
  readonly specs: NodeSpec[] = [];
  readonly procs = new Map<string, ChildProcess>();
  readonly logs = new Map<string, string[]>();
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

  start(id: string, join = false): void {
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
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = this.logs.get(id) ?? [];
    this.logs.set(id, log);
    const keep = (b: Buffer) => {
      log.push(b.toString());
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
   * Polls until some live node reports itself leader and every node in `among` answers HTTP
   * (a node votes as soon as its Raft port is up, before its HTTP listens), or time runs out.
   */
  async waitLeader(timeoutMs = 30_000, among = this.alive()): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      let leader: string | null = null;
      let answered = 0;
      for (const id of among) {
        try {
          const r = await this.request(id, 'GET', '/cluster', undefined, 500);
          answered++;
          if (r.body.role === 'leader' && among.includes(r.body.id as string)) leader = id;
        } catch {
          // not up yet
        }
      }
      if (leader !== null && answered === among.length) return leader;
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
