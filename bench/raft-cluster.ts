import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Request } from './raft-node-process.js';

const CHILD = fileURLToPath(new URL('./raft-node-process.ts', import.meta.url));
const CALL_TIMEOUT_MS = 120_000;

/** Ports the kernel says are free right now (listen on 0, then close). */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    ports.push((server.address() as net.AddressInfo).port);
    await new Promise<void>((r) => server.close(() => r()));
  }
  return ports;
}

/** A bench node child process and a request/response channel to it over IPC. */
export class BenchNode {
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (msg: { result?: unknown; error?: string }) => void>();

  constructor(
    readonly id: string,
    dataDir: string,
    port: number,
    peers: Record<string, string>,
    nodeFlags: readonly string[] = [],
  ) {
    this.child = fork(CHILD, [JSON.stringify({ id, dataDir, port, peers }), ...nodeFlags], {
      // BENCH_PROF=dir writes a V8 CPU profile per node into dir (where the time goes).
      execArgv: [
        '--import',
        'tsx',
        ...(process.env.BENCH_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`]
          : []),
        // BENCH_EXEC_ARGV="--trace-gc ...": extra node flags for every node (diagnosis).
        ...(process.env.BENCH_EXEC_ARGV ?? '').split(/\s+/).filter((f) => f !== ''),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`${id} exited with ${code}`)));
      this.child.on(
        'message',
        (msg: { ready?: boolean; reqId?: number; result?: unknown; error?: string }) => {
          if (msg.ready) resolve();
          if (msg.reqId !== undefined) this.waiting.get(msg.reqId)?.(msg);
        },
      );
    });
  }

  call(req: Request): Promise<unknown> {
    const reqId = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.id}: ${req.cmd} timed out`)),
        CALL_TIMEOUT_MS,
      );
      this.waiting.set(reqId, (msg) => {
        clearTimeout(timer);
        this.waiting.delete(reqId);
        if (msg.error) reject(new Error(`${this.id}: ${msg.error}`));
        else resolve(msg.result);
      });
      this.child.send({ reqId, req });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await this.call({ cmd: 'stop' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
