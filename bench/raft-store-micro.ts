/** Ceiling of the log store alone: persist() of batches of 64-byte entries (tsx bench/raft-store-micro.ts). */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../src/raft/types.js';
import { RaftLogStore } from '../src/storage/raft-log-store.js';

const dir = join(process.cwd(), 'bench', 'out', `store-${Date.now()}`);
mkdirSync(dir, { recursive: true });
const store = RaftLogStore.open(join(dir, 'raft-log.db'));
const data = new Uint8Array(64);
for (const batch of [1, 100, 1000, 10_000]) {
  const rounds = Math.min(200, Math.max(20, Math.floor(100_000 / batch)));
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    const first = store.lastIndex() + 1;
    const entries: Entry[] = [];
    for (let i = 0; i < batch; i++) entries.push({ index: first + i, term: 1, type: 0, data });
    store.persist({
      snapshot: null,
      entries,
      hardState: { term: 1, vote: null, commit: first - 1 },
    });
  }
  const s = (performance.now() - started) / 1000;
  console.log(
    `batch ${batch}: ${((rounds * batch) / s).toFixed(0)} entries/s, ${((s / rounds) * 1000).toFixed(3)} ms per persist`,
  );
}
store.close();
rmSync(dir, { recursive: true, force: true });
