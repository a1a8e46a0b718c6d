// The log store is compacted to `snapshotTailEntries` behind the state machine's durable
// snapshot, the same point as the core's own log, whatever the snapshot interval: a real
// RaftNode (one member), both stores, real fsync, the store read back from disk after a stop.
// Until 2026-12-05 the store stopped at the previous snapshot point instead (100,000-200,000
// entries kept with drl serve's default interval, all rewritten by each segment roll), and here,
// where the durable index jumps from 0 to 3,000 in one apply (the first durable index it saw),
// it was not compacted at all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { RaftNode, type StateMachine } from '../../src/raft/driver/index.js';
import type { Entry, SnapshotMeta } from '../../src/raft/types.js';
import { openRaftLog } from '../../src/storage/open-raft-log.js';
import type { LogStoreKind } from '../../src/storage/raft-log-storage.js';
import { waitFor } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'drl-log-compaction-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const EVERY = 1_000;
const TAIL = 10;

/** Counts entries; durable (a snapshot) every EVERY entries. */
class CountingMachine implements StateMachine<number> {
  applied = 0;
  durable = 0;
  apply(e: Entry): number {
    this.applied = e.index;
    if (e.index % EVERY === 0) this.durable = e.index;
    return e.index;
  }
  appliedIndex(): number {
    return this.applied;
  }
  durableIndex(): number {
    return this.durable;
  }
  snapshotData(): Uint8Array {
    return Buffer.from(String(this.applied));
  }
  restore(meta: SnapshotMeta): void {
    this.applied = meta.index;
    this.durable = meta.index;
  }
}

for (const kind of ['file', 'sqlite'] as const) {
  t.test(`the ${kind} store keeps the tail behind the durable snapshot`, async (t) => {
    const dataDir = join(root, kind);
    const sm = new CountingMachine();
    const node = new RaftNode<number>({
      id: 'a',
      dataDir,
      listen: { host: '127.0.0.1', port: 0 },
      peers: { a: '127.0.0.1:1' },
      secret: 'log-compaction-secret',
      stateMachine: sm,
      logger: pino({ level: 'silent' }),
      tickMs: 10,
      electionTicks: 10,
      requestTimeoutMs: 5000,
      raft: { snapshotTailEntries: TAIL },
      logStore: kind as LogStoreKind,
    });
    await node.start();
    await waitFor(() => node.isLeader(), 5000, 'a leader');
    const proposals: Promise<unknown>[] = [];
    for (let i = 0; i < 3_500; i++) proposals.push(node.propose(Buffer.from(`e${i}`)));
    await Promise.all(proposals);
    await waitFor(() => sm.durable >= 3_000, 5000, 'three snapshots');
    const durable = sm.durable;
    await node.stop();
    const store = openRaftLog(dataDir, { kind, writes: 'sync', warn: () => {} });
    try {
      const start = store.snapshot?.index ?? 0;
      t.equal(start, durable - TAIL, `compacted to ${TAIL} behind the durable snapshot ${durable}`);
      t.equal(store.snapshot?.term, store.term(start), 'the term of the entry there');
      t.same(store.snapshot?.conf.voters, ['a'], 'the configuration there');
      t.ok(store.lastIndex() >= sm.applied, `entries ${start + 1}..${store.lastIndex()} kept`);
    } finally {
      store.close();
    }
  });
}
