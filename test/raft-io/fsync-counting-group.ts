// A 3-node RaftNode group over loopback (SQLite log, real fsync) that counts each node's
// durable writes, and an offered load that records how many of the leader's fsyncs each
// answer waited for: what the driver's batching options (applyDurableFirst,
// leaderAckWaitMs) change.
import { join } from 'node:path';
import pino from 'pino';
import { RaftNode, type RaftNodeOptions } from '../../src/raft/driver/index.js';
import { waitFor } from './helpers.js';

export interface FsyncCountingGroup {
  nodes: RaftNode<number>[];
  /** Durable log writes per node id (one fsync each). */
  syncs: Record<string, number>;
}

type Tuning = Pick<
  RaftNodeOptions<number>,
  'tickMs' | 'electionTicks' | 'applyDurableFirst' | 'leaderAckWaitMs'
>;

/** Starts the group in `dir` and resolves once some node leads. */
export async function fsyncCountingGroup(
  dir: string,
  secret: string,
  tuning: Tuning,
): Promise<FsyncCountingGroup> {
  const ids = ['a', 'b', 'c'];
  const syncs: Record<string, number> = { a: 0, b: 0, c: 0 };
  const placeholder = Object.fromEntries(ids.map((id) => [id, '127.0.0.1:1']));
  const nodes = ids.map((id) => {
    let appliedCount = 0;
    return new RaftNode<number>({
      id,
      dataDir: join(dir, id),
      listen: { host: '127.0.0.1', port: 0 },
      peers: placeholder,
      secret,
      stateMachine: { apply: () => ++appliedCount },
      logger: pino({ level: 'silent' }),
      requestTimeoutMs: 20_000,
      ...tuning,
      onSync: () => {
        syncs[id]!++;
      },
    });
  });
  try {
    const ports = await Promise.all(nodes.map((n) => n.start()));
    for (const n of nodes) {
      for (const [i, id] of ids.entries()) n.setPeerAddress(id, `127.0.0.1:${ports[i]!.port}`);
    }
    await waitFor(() => nodes.some((n) => n.isLeader()), 10_000, 'leader');
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return { nodes, syncs };
}

/**
 * Offers `total` proposals to the leader, `perMs` every millisecond (an offered load, not a
 * closed loop, which moves in lockstep with one batch in flight), and returns, per answer, the
 * leader's fsyncs between its propose() and its answer.
 */
export async function leaderFsyncsWaited(
  g: FsyncCountingGroup,
  total: number,
  perMs: number,
): Promise<number[]> {
  const leader = g.nodes.find((n) => n.isLeader())!;
  await leader.propose(Buffer.from('warm-up'));
  const waited: number[] = [];
  await new Promise<void>((resolve, reject) => {
    let issued = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < perMs && issued < total; i++) {
        issued++;
        const at = g.syncs[leader.id]!;
        leader.propose(Buffer.from(`e${issued}`)).then(() => {
          waited.push(g.syncs[leader.id]! - at);
          if (waited.length === total) resolve();
        }, reject);
      }
      if (issued >= total) clearInterval(timer);
    }, 1);
  });
  if (leader.appliedIndex() > leader.commitIndex()) {
    throw new Error(`applied ${leader.appliedIndex()} > committed ${leader.commitIndex()}`);
  }
  return waited;
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
