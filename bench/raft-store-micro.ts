/**
 * The log store alone (npx tsx bench/raft-store-micro.ts):
 * 1. ceiling: back-to-back persist() of batches of 64-byte entries;
 * 2. stalls: persist() of 11-entry batches paced like one node of `bench:raft` at 10,000
 *    entries/s (~900 commits/s), with the WAL checkpointed by the worker thread vs inline
 *    (SQLite's automatic checkpoint inside a commit). The two stores are written alternately in
 *    one process, so the disk's noise hits both alike. A persist() blocks the event loop for
 *    its whole duration: its tail is the stall every request in flight sees.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../src/raft/types.js';
import { RaftLogStore, type RaftLogStoreOptions } from '../src/storage/raft-log-store.js';

const PACED_MS = Number(process.env.PACED_MS ?? 10_000);
const PACED_COMMITS_PER_SEC = 900;
const PACED_BATCH = 11;

const dir = join(process.cwd(), 'bench', 'out', `store-${Date.now()}`);
mkdirSync(dir, { recursive: true });
const data = new Uint8Array(64);

function append(store: RaftLogStore, count: number): number {
  const first = store.lastIndex() + 1;
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) entries.push({ index: first + i, term: 1, type: 0, data });
  const started = performance.now();
  store.persist({ snapshot: null, entries, hardState: { term: 1, vote: null, commit: first - 1 } });
  return performance.now() - started;
}

function ceiling(): void {
  const store = RaftLogStore.open(join(dir, 'ceiling.db'));
  for (const batch of [1, 100, 1000, 10_000]) {
    const rounds = Math.min(200, Math.max(20, Math.floor(100_000 / batch)));
    let ms = 0;
    for (let r = 0; r < rounds; r++) ms += append(store, batch);
    console.log(
      `batch ${batch}: ${((rounds * batch) / (ms / 1000)).toFixed(0)} entries/s, ${(ms / rounds).toFixed(3)} ms per persist`,
    );
  }
  store.close();
}

function summary(name: string, times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number): string => sorted[Math.floor(p * (sorted.length - 1))]!.toFixed(2);
  const over3 = sorted.filter((t) => t > 3);
  const over3Ms = over3.reduce((a, b) => a + b, 0);
  return (
    `${name.padEnd(7)} ${sorted.length} commits: persist p50 ${q(0.5)} p99 ${q(0.99)} p99.9 ${q(0.999)} ` +
    `max ${q(1)} ms; ${over3.length} over 3 ms (${over3Ms.toFixed(0)} ms blocked)`
  );
}

async function paced(): Promise<void> {
  const variants: [string, RaftLogStoreOptions][] = [
    ['worker', {}],
    ['inline', { walCheckpoints: 'inline' }],
  ];
  const stores = variants.map(([name, o]) => RaftLogStore.open(join(dir, `${name}.db`), o));
  // Start from a log the size bench:raft's closed loop leaves behind (~300k entries).
  for (const s of stores) for (let i = 0; i < 30; i++) append(s, 10_000);
  const times = stores.map((): number[] => []);
  const intervalMs = 1000 / PACED_COMMITS_PER_SEC;
  const start = performance.now();
  let due = start;
  for (let n = 0; performance.now() - start < PACED_MS; n++) {
    const k = n % stores.length;
    times[k]!.push(append(stores[k]!, PACED_BATCH));
    // Each store gets PACED_COMMITS_PER_SEC; yield between commits as a node does.
    due += intervalMs / stores.length;
    const waitMs = due - performance.now();
    await new Promise((r) => (waitMs > 1 ? setTimeout(r, waitMs) : setImmediate(r)));
  }
  console.log(
    `paced ${PACED_COMMITS_PER_SEC} commits/s x ${PACED_BATCH} entries per store, ${PACED_MS} ms, stores alternating:`,
  );
  for (const [k, [name]] of variants.entries()) console.log(`  ${summary(name, times[k]!)}`);
  console.log(`  worker checkpoints: ${JSON.stringify(stores[0]!.checkpointStats())}`);
  for (const s of stores) s.close();
}

try {
  ceiling();
  await paced();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
