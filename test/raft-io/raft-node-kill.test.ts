import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { LogWrites } from '../../src/raft/driver/index.js';
import type { RaftStatus } from '../../src/raft/types.js';
import type { LogStoreKind } from '../../src/storage/raft-log-storage.js';
import { freePort } from '../free-port.js';
import { waitFor } from './helpers.js';

const CHILD = fileURLToPath(new URL('./kill-node-process.ts', import.meta.url));
const IDS = ['k1', 'k2', 'k3'];
const root = mkdtempSync(join(tmpdir(), 'drl-kill-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

class Proc {
  child!: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (m: { result?: unknown; error?: string }) => void>();
  constructor(
    readonly id: string,
    private readonly port: number,
    private readonly peers: Record<string, string>,
    private readonly dataRoot: string,
    private readonly logWrites: LogWrites,
    private readonly logStore: LogStoreKind,
  ) {}

  async start(): Promise<void> {
    const arg = JSON.stringify({
      id: this.id,
      dataDir: join(this.dataRoot, this.id),
      port: this.port,
      peers: this.peers,
      logWrites: this.logWrites,
      logStore: this.logStore,
    });
    this.child = fork(CHILD, [arg], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`${this.id} exited ${code}`)));
      this.child.on(
        'message',
        (m: { ready?: boolean; reqId?: number; result?: unknown; error?: string }) => {
          if (m.ready) resolve();
          if (m.reqId !== undefined) this.waiting.get(m.reqId)?.(m);
        },
      );
    });
  }

  call<T>(req: object): Promise<T> {
    const reqId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(reqId, (m) => {
        this.waiting.delete(reqId);
        if (m.error) reject(new Error(m.error));
        else resolve(m.result as T);
      });
      this.child.send({ reqId, req });
    });
  }

  async kill9(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
    // Calls the dead process will never answer fail instead of hanging.
    for (const settle of [...this.waiting.values()]) settle({ error: 'killed' });
  }
}

async function leaderOf(procs: Proc[]): Promise<Proc> {
  let leader: Proc | undefined;
  const deadline = Date.now() + 20_000;
  while (!leader) {
    if (Date.now() > deadline) throw new Error('no leader');
    const statuses = await Promise.all(procs.map((p) => p.call<RaftStatus>({ cmd: 'status' })));
    const l = statuses.find((s) => s.role === 'leader');
    if (l && statuses.every((s) => s.leader === l.id)) leader = procs.find((p) => p.id === l.id);
    else await new Promise((r) => setTimeout(r, 50));
  }
  return leader;
}

function isSubsequence(needle: string[], hay: string[]): boolean {
  let i = 0;
  for (const h of hay) if (h === needle[i]) i++;
  return i === needle.length;
}

// Every way of writing the log: segment files, and SQLite on the event loop, from a worker
// thread, or with its fdatasync on the pool.
const STORES = [
  ['file', 'sync'],
  ['file', 'pool'],
  ['sqlite', 'sync'],
  ['sqlite', 'worker'],
  ['sqlite', 'pool'],
] as const;
for (const [logStore, logWrites] of STORES) {
  t.test(
    `${logStore} log, ${logWrites} writes: SIGKILL of the leader, then of every node, loses no acknowledged entry`,
    (t) => killScenario(t, logStore, logWrites),
  );
}

async function killScenario(t: Test, logStore: LogStoreKind, logWrites: LogWrites): Promise<void> {
  // One at a time, below the ephemeral range, never the same port twice (the harness's rules).
  const ports: number[] = [];
  for (const _ of IDS) ports.push(await freePort());
  const peers = Object.fromEntries(IDS.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  const dataRoot = join(root, `${logStore}-${logWrites}`);
  const procs = IDS.map((id, i) => new Proc(id, ports[i]!, peers, dataRoot, logWrites, logStore));
  t.teardown(() => Promise.all(procs.map((p) => p.kill9())));
  await Promise.all(procs.map((p) => p.start()));

  const first = await leaderOf(procs);
  const acked = await first.call<string[]>({ cmd: 'propose', prefix: 'a', count: 200 });
  t.equal(acked.length, 200, 'all acknowledged while healthy');
  // Kill the leader while a second batch is in flight: only what was acknowledged counts.
  const inflight = first
    .call<string[]>({ cmd: 'propose', prefix: 'b', count: 200 })
    .catch(() => []);
  await first.kill9();
  await inflight;
  const rest = procs.filter((p) => p !== first);
  const second = await leaderOf(rest);
  acked.push(...(await second.call<string[]>({ cmd: 'propose', prefix: 'c', count: 100 })));

  await Promise.all(procs.map((p) => p.kill9()));
  await Promise.all(procs.map((p) => p.start()));
  const third = await leaderOf(procs);
  const last = await third.call<string[]>({ cmd: 'propose', prefix: 'd', count: 10 });
  acked.push(...last);
  const logs: string[][] = [];
  for (const p of procs) {
    let log: string[] = [];
    await waitFor(
      () => {
        // A poll still pending at teardown is settled 'killed' by kill9: not a failure.
        void p.call<string[]>({ cmd: 'applied' }).then(
          (l) => {
            log = l;
          },
          () => undefined,
        );
        return log.length >= acked.length && isSubsequence(last, log);
      },
      15_000,
      `${p.id} applies everything`,
    );
    logs.push(log);
  }
  for (const [i, log] of logs.entries()) {
    t.ok(isSubsequence(acked, log), `${IDS[i]}: every acknowledged entry, in order`);
    t.same(log, logs[0], `${IDS[i]}: same log as ${IDS[0]}`);
  }
}
