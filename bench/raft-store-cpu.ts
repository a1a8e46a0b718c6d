/**
 * CPU per persisted entry of the Raft log store (npx tsx bench/raft-store-cpu.ts), the cost the
 * spread workload pays on every node: ~100-byte entries in batches of 1/8/32/128, paced at
 * ENTRIES_PER_SEC (the leader's rate in `npm run bench` spread), persist + the WAL checkpointer.
 * CPU is process.cpuUsage() (every thread: the main one and the checkpoint worker), split into
 * the main thread (/proc/self/task/<pid>/stat) and the rest (the worker).
 *
 * STORES="base=/tmp/logrow-base/dist/src/storage/raft-log-store.js,new=src/storage/raft-log-store.ts"
 * compares builds in one process, alternating per batch size and round.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Entry } from '../src/raft/types.js';
import type { RaftLogStore } from '../src/storage/raft-log-store.js';

const ENTRIES_PER_SEC = Number(process.env.ENTRIES_PER_SEC ?? 3500);
const ENTRIES_PER_RUN = Number(process.env.ENTRIES_PER_RUN ?? 7000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BATCHES = (process.env.BATCHES ?? '1,8,32,128').split(',').map(Number);
const ENTRY_BYTES = 100;
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 3000);
/** As a serving node: every COMPACT_EVERY entries the log is compacted to 1,024 behind its end. */
const COMPACT_EVERY = Number(process.env.COMPACT_EVERY ?? 0);
const COMPACT_TAIL = 1024;

type Store = Pick<RaftLogStore, 'persist' | 'compact' | 'lastIndex' | 'firstIndex' | 'close'> & {
  checkpointStats?: RaftLogStore['checkpointStats'];
};
type StoreClass = { open(path: string, options?: { checkpointIntervalMs?: number }): Store };
/** The SQLite store's module, the file store's (RaftFileLogStore, a directory) or a sketch. */
interface StoreModule {
  RaftLogStore?: StoreClass;
  RaftFileLogStore?: StoreClass;
}

const specs = (process.env.STORES ?? 'this=src/storage/raft-log-store.ts').split(',').map((s) => {
  // name=module[@checkpointIntervalMs]
  const [name, rest] = s.split('=') as [string, string];
  const [path, ms] = rest.split('@') as [string, string | undefined];
  return { name, path: resolve(path), intervalMs: ms === undefined ? undefined : Number(ms) };
});
const modules = await Promise.all(
  specs.map(async (s) => ({
    name: s.name,
    mod: (await import(s.path)) as StoreModule,
    intervalMs: s.intervalMs,
  })),
);

const dir = join(process.cwd(), 'bench', 'out', `store-cpu-${process.pid}`);
mkdirSync(dir, { recursive: true });
const TICK_S = 0.01; // 10 ms jiffies in /proc stat
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function mainThreadCpuS(): number {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_S;
}

function payload(i: number): Uint8Array {
  const b = new Uint8Array(ENTRY_BYTES);
  for (let j = 0; j < ENTRY_BYTES; j++) b[j] = (i * 31 + j) & 0xff;
  return b;
}

async function run(mod: StoreModule, intervalMs: number | undefined, batch: number, tag: string) {
  const Store = mod.RaftLogStore ?? mod.RaftFileLogStore;
  if (!Store) throw new Error('the module exports neither RaftLogStore nor RaftFileLogStore');
  const store = Store.open(join(dir, `${tag}.db`), { checkpointIntervalMs: intervalMs });
  const datas = Array.from({ length: 64 }, (_, i) => payload(i));
  // Batch 1 cannot reach the paced rate (one fsync per entry): fewer entries, same wall time.
  const commits = Math.ceil(Math.min(ENTRIES_PER_RUN, batch * 1500) / batch);
  const commitEveryMs = (1000 * batch) / ENTRIES_PER_SEC;
  // Warm-up outside the measurement (JIT, and the WAL grown to its steady size: appending
  // new blocks costs more than overwriting, and a fresh file would favour short intervals).
  const warm = Math.ceil((WARMUP_MS / commitEveryMs) | 0);
  let cpu0 = process.cpuUsage();
  let main0 = mainThreadCpuS();
  let t0 = performance.now();
  let due = t0;
  for (let c = -warm; c < commits; c++) {
    if (c === 0) {
      cpu0 = process.cpuUsage();
      main0 = mainThreadCpuS();
      t0 = performance.now();
    }
    persist(store, batch, datas);
    if (
      COMPACT_EVERY > 0 &&
      store.lastIndex() - store.firstIndex() >= COMPACT_EVERY + COMPACT_TAIL
    ) {
      const index = store.lastIndex() - COMPACT_TAIL;
      store.compact({ index, term: 1, conf: { voters: ['n1', 'n2', 'n3'], learners: [] } });
    }
    due += commitEveryMs;
    const wait = due - performance.now();
    if (wait > 1) Atomics.wait(sleeper, 0, 0, wait);
    // Yield now and then, as a node does (worker error messages, timers).
    if (c % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  const cpu = process.cpuUsage(cpu0);
  const main = mainThreadCpuS() - main0;
  const wallS = (performance.now() - t0) / 1000;
  const stats = store.checkpointStats?.() ?? { checkpoints: 0 };
  store.close();
  rmSync(join(dir, `${tag}.db`), { force: true, recursive: true });
  const n = commits * batch;
  const totalUs = (cpu.user + cpu.system) / n;
  return {
    totalUs,
    sysUs: cpu.system / n,
    mainUs: (main * 1e6) / n,
    restUs: totalUs - (main * 1e6) / n,
    rate: n / wallS,
    checkpoints: stats.checkpoints,
  };
}

function persist(store: Store, batch: number, datas: Uint8Array[]): void {
  const first = store.lastIndex() + 1;
  const entries: Entry[] = [];
  for (let i = 0; i < batch; i++) {
    entries.push({ index: first + i, term: 1, type: 0, data: datas[(first + i) % datas.length]! });
  }
  store.persist({ snapshot: null, entries, hardState: { term: 1, vote: null, commit: first - 1 } });
}

console.log(
  `raft log store CPU per entry: ${ENTRY_BYTES}-byte entries, ${ENTRIES_PER_SEC}/s paced, ${ENTRIES_PER_RUN} per run, ${ROUNDS} rounds, compaction every ${COMPACT_EVERY || 'never'}`,
);
const results = new Map<string, number[]>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const batch of BATCHES) {
      const order = round % 2 === 0 ? modules : [...modules].reverse();
      for (const { name, mod, intervalMs } of order) {
        const r = await run(mod, intervalMs, batch, `${name}-${batch}-${round}`);
        const key = `${name} batch ${batch}`;
        results.set(key, [...(results.get(key) ?? []), r.totalUs]);
        console.log(
          `round ${round} ${key.padEnd(18)} total ${r.totalUs.toFixed(1)} µs/entry (sys ${r.sysUs.toFixed(1)}; main thread ${r.mainUs.toFixed(1)}, other threads ${r.restUs.toFixed(1)}); ${r.rate.toFixed(0)} entries/s, ${r.checkpoints} checkpoints`,
        );
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('medians (µs CPU per entry):');
for (const batch of BATCHES) {
  const line = modules.map(
    ({ name }) => `${name} ${median(results.get(`${name} batch ${batch}`)!).toFixed(1)}`,
  );
  const ratio =
    modules.length === 2
      ? `  ratio ${modules[1]!.name}/${modules[0]!.name} ${(median(results.get(`${modules[1]!.name} batch ${batch}`)!) / median(results.get(`${modules[0]!.name} batch ${batch}`)!)).toFixed(2)}`
      : '';
  console.log(`  batch ${String(batch).padStart(3)}: ${line.join(', ')}${ratio}`);
}
