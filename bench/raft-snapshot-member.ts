/**
 * One RaftNode with the limiter state machine, as the snapshot bench needs it (leader in the
 * bench process; learners in child processes: `tsx bench/raft-snapshot-member.ts ID DIR`,
 * which prints its address, then "installed" once a snapshot is installed).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import {
  type ApplyOutcome,
  LimiterStateMachine,
  type LimiterStateMachineOptions,
} from '../src/cli/serve/limiter-state-machine.js';
import { createLimiter } from '../src/limiter/index.js';
import { RaftNode } from '../src/raft/driver/raft-node.js';
import { LimiterSnapshotStore } from '../src/storage/limiter-snapshot-store.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

export interface Member {
  node: RaftNode<ApplyOutcome>;
  sm: LimiterStateMachine;
  address: string;
}

export async function member(
  root: string,
  id: string,
  peers: Record<string, string>,
  sm: Partial<LimiterStateMachineOptions> = {},
): Promise<Member> {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  const store = LimiterSnapshotStore.openFile(join(dir, 'limiter-state.db'));
  const machine = new LimiterStateMachine(createLimiter(), store, {
    snapshotEveryEntries: 1e9,
    ...sm,
  });
  const node = new RaftNode({
    id,
    dataDir: dir,
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    secret: 'bench-secret-bench-secret',
    stateMachine: machine,
    logger,
    raft: { snapshotTailEntries: 0 },
    requestTimeoutMs: 60_000,
  });
  const bound = await node.start();
  return { node, sm: machine, address: `${bound.host}:${bound.port}` };
}

if (process.argv[1]?.endsWith('raft-snapshot-member.ts')) {
  const [id, root] = process.argv.slice(2);
  const m = await member(root!, id!, {});
  m.node.on('snapshot-installed', (meta: { index: number }) => {
    console.log(JSON.stringify({ installed: meta.index }));
  });
  console.log(JSON.stringify({ address: m.address }));
  process.on('SIGTERM', () => {
    m.node.stop().then(() => process.exit(0));
  });
}
