// Async log writes on real RaftNodes, every store and mode (the SQLite log written by a worker
// thread; or committed on the loop and fdatasynced on libuv's pool; the segment files written
// on the loop and fdatasynced on the pool), real fsync: a group
// under offered load, a follower stopped while the log compacts behind it, then caught up by a
// snapshot stream and its install (a Ready whose write carries the snapshot), then a restart of
// every node from disk alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { type LogWrites, RaftNode, type StateMachine } from '../../src/raft/driver/index.js';
import { type Entry, EntryType, type SnapshotMeta } from '../../src/raft/types.js';
import type { LogStoreKind } from '../../src/storage/raft-log-storage.js';
import { waitFor } from './helpers.js';

const IDS = ['a', 'b', 'c'];
const root = mkdtempSync(join(tmpdir(), 'drl-async-wal-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

/** A list of applied payloads; "durable" (snapshot) every 50 entries, held in `durable`. */
class ListMachine implements StateMachine<number> {
  log: string[] = [];
  applied = 0;
  constructor(
    private readonly durable: Map<string, { applied: number; log: string[] }>,
    private readonly id: string,
  ) {
    const d = durable.get(id);
    if (d) {
      this.log = [...d.log];
      this.applied = d.applied;
    }
  }
  apply(e: Entry): number {
    if (e.type === EntryType.Normal && e.data.length > 0)
      this.log.push(Buffer.from(e.data).toString());
    this.applied = e.index;
    if (e.index % 50 === 0) this.durable.set(this.id, { applied: e.index, log: [...this.log] });
    return this.log.length;
  }
  appliedIndex(): number {
    return this.applied;
  }
  durableIndex(): number {
    return this.durable.get(this.id)?.applied ?? 0;
  }
  snapshotData(): Uint8Array {
    return Buffer.from(JSON.stringify(this.log));
  }
  restore(meta: SnapshotMeta, data: Uint8Array): void {
    this.log = JSON.parse(Buffer.from(data).toString()) as string[];
    this.applied = meta.index;
    this.durable.set(this.id, { applied: meta.index, log: [...this.log] });
  }
}

interface Member {
  node: RaftNode<number>;
  sm: ListMachine;
  port: number;
}

const MODES = [
  ['worker', 'sqlite'],
  ['pool', 'sqlite'],
  ['pool', 'file'],
] as const;
for (const [logWrites, logStore] of MODES) group(logWrites, logStore);

/** One group's scenario (its own nodes, ports and data directory). */
function group(logWrites: LogWrites, logStore: LogStoreKind): void {
  const durable = new Map<string, { applied: number; log: string[] }>();
  const members = new Map<string, Member>();
  const ports = new Map<string, number>();

  async function start(id: string): Promise<Member> {
    const sm = new ListMachine(durable, id);
    const peers = Object.fromEntries(IDS.map((x) => [x, `127.0.0.1:${ports.get(x) ?? 1}`]));
    const node = new RaftNode<number>({
      id,
      dataDir: join(root, `${logStore}-${logWrites}`, id),
      listen: { host: '127.0.0.1', port: ports.get(id) ?? 0 },
      peers,
      secret: 'async-wal-secret',
      stateMachine: sm,
      logger: pino({ level: 'silent' }),
      tickMs: 20,
      electionTicks: 10,
      requestTimeoutMs: 5000,
      transport: { reconnectMinMs: 10, reconnectMaxMs: 100 },
      raft: { snapshotTailEntries: 10 },
      logWrites,
      logStore,
    });
    const bound = await node.start();
    ports.set(id, bound.port);
    const m = { node, sm, port: bound.port };
    members.set(id, m);
    for (const other of members.values()) {
      for (const [oid, p] of ports) other.node.setPeerAddress(oid, `127.0.0.1:${p}`);
    }
    return m;
  }

  async function leader(): Promise<Member> {
    let found: Member | undefined;
    await waitFor(
      () => {
        const up = [...members.values()];
        found = up.find((m) => m.node.isLeader());
        return !!found && up.every((m) => m.node.leaderId() === found!.node.id);
      },
      10_000,
      'a leader everyone follows',
    );
    return found!;
  }

  /** Proposals at ~2 per ms (offered load: writes are in flight while more arrive). */
  async function load(m: Member, prefix: string, count: number): Promise<number[]> {
    const out: Promise<number>[] = [];
    for (let i = 0; i < count; i++) {
      out.push(m.node.propose(Buffer.from(`${prefix}${i}`)).then((r) => r.index));
      if (i % 2 === 1) await new Promise((r) => setTimeout(r, 1));
    }
    return Promise.all(out);
  }

  t.teardown(async () => {
    for (const m of members.values()) await m.node.stop();
  });

  t.test(
    `replication, snapshot catch-up and restart: ${logStore} log, ${logWrites} writes`,
    async (t) => {
      for (const id of IDS) await start(id);
      const first = await leader();
      const idx = await load(first, 'a', 300);
      t.same(
        idx,
        [...idx].sort((x, y) => x - y),
        'answers in proposal order',
      );
      await waitFor(
        () => [...members.values()].every((m) => m.sm.log.length === 300),
        10_000,
        'all apply',
      );

      // A follower stops; the others go on far past the compaction point.
      const lagging = [...members.values()].find((m) => m !== first)!;
      const lagId = lagging.node.id;
      await lagging.node.stop();
      members.delete(lagId);
      await load(await leader(), 'b', 400);
      const expected = [...first.sm.log];
      t.equal(expected.length, 700);

      // Back from its own disk, it is behind the leader's log: a snapshot stream catches it up.
      const back = await start(lagId);
      let installed = 0;
      back.node.on('snapshot-installed', () => installed++);
      await waitFor(() => back.sm.log.length === 700, 20_000, 'the lagging follower catches up');
      t.same(back.sm.log, expected, 'same log after the snapshot install');
      t.ok(installed >= 1, 'caught up through a snapshot (the log was compacted past it)');

      // Every node restarts from disk alone (and the durable state machine image).
      for (const m of [...members.values()]) {
        await m.node.stop();
        members.delete(m.node.id);
      }
      for (const id of IDS) await start(id);
      const again = await leader();
      await load(again, 'c', 10);
      await waitFor(
        () => [...members.values()].every((m) => m.sm.log.length === 710),
        10_000,
        'all apply after the restart',
      );
      for (const m of members.values())
        t.same(m.sm.log.slice(0, 700), expected, `${m.node.id} kept the log`);
    },
  );
}
