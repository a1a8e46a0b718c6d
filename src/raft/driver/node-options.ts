import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { DrlError } from '../../errors.js';
import type { LogStoreKind } from '../../storage/raft-log-storage.js';
import type { LogWriteMode } from '../../storage/raft-log-store.js';
import type { TransportOptions } from '../transport/transport-types.js';
import type { NodeId, RaftConfig } from '../types.js';
import type { EntryTracer } from './entry-trace.js';
import type { StateMachine } from './state-machine.js';

/** How the Raft log is made durable (RaftNodeOptions.logWrites): the store's modes. */
export type LogWrites = LogWriteMode;

export interface RaftNodeOptions<R> {
  id: NodeId;
  /**
   * Directory of this node's durable state; the Raft log is `raft-log.db` (logStore 'sqlite')
   * or the segment directory `raft-log/` (logStore 'file') in it.
   */
  dataDir: string;
  /** Where this node listens for its peers (port 0 = any free port). */
  listen: { host: string; port: number };
  /** Every member of the initial group by Raft address, this node included (informational). */
  peers: Record<NodeId, string>;
  /** Cluster secret for the transport's handshake. */
  secret: string | Uint8Array;
  stateMachine: StateMachine<R>;
  logger: Logger;
  /** Tick length (default 50 ms); elections after electionTicks ticks without a leader. */
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** propose()/readIndex() reject with 'unavailable' after this long (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Monotonic milliseconds (default performance.now); leases depend on it. */
  nowMs?: () => number;
  /** Uniform integer in [0, n) (default crypto.randomInt). */
  randomInt?: (n: number) => number;
  /** Overrides of the core's configuration (inflight limits, testBugs, ...). */
  raft?: Partial<Omit<RaftConfig, 'id' | 'peers'>>;
  /** Transport tuning (queue bound, backoff, TLS socket factory). */
  transport?: Partial<
    Omit<TransportOptions, 'id' | 'listen' | 'peers' | 'secret' | 'logger' | 'onMessage'>
  >;
  /**
   * Let a leader send App/Heartbeat before its own fsync of the same Ready (default true;
   * safe because the core counts the leader's own log only once durable). false = strict
   * persist-then-send for every message.
   */
  leaderSendsBeforePersist?: boolean;
  /**
   * Default true: committed entries that are already durable here (persisted by an earlier
   * Ready) are applied and answered in a turn of their own, before the fsync of the next Ready
   * (which then carries the proposals that arrived meanwhile). Off: they are applied after
   * that fsync, in the same Ready, and every answer waits for one more fsync.
   */
  applyDurableFirst?: boolean;
  /**
   * Leader, synchronous log writes: after a full Ready whose new entries are not committed yet,
   * hold the next full Ready (and its fsync, which blocks the event loop) for up to this many
   * ms, until a follower's ack commits them; proposals arriving meanwhile join that Ready.
   * Default 0 = take the next Ready at once (an ack arriving during its fsync then waits for
   * it, and so do the previous batch's answers). On a LAN ~2 ms covers a follower's fsync plus
   * a round trip. A group whose acks take longer than the wait (WAN, an overloaded box) gains
   * nothing and delays each batch's Apps by it. Only with logWrites 'sync'.
   */
  leaderAckWaitMs?: number;
  /**
   * How the Raft log is made durable. 'sync' (default): each Ready commits and fsyncs on the
   * event loop. The two async modes keep stepping messages, ticks and proposals while a write
   * is in flight; the Ready's messages that follow its persist (votes, AppResp) leave, and its
   * new entries count as durable, only once the write is durable. Committed entries already
   * durable are applied meanwhile. One write in flight at a time: what arrives during it forms
   * the next batch (group commit as before). 'worker': a worker thread owns the log's write
   * connection. 'pool': the transaction commits on the loop without an fsync, then the WAL's
   * fdatasync runs on libuv's thread pool (src/storage/wal-fdatasync.ts).
   */
  logWrites?: LogWrites;
  /**
   * Where the Raft log is kept. 'file' (default): append-only segment files, one write and one
   * fdatasync per Ready (src/storage/raft-file-log-store.ts); logWrites 'sync' or 'pool'. A SQLite
   * log found in the data directory is migrated to it on open (src/storage/open-raft-log.ts).
   * 'sqlite': one SQLite file (src/storage/raft-log-store.ts), for the async logWrites modes.
   */
  logStore?: LogStoreKind;
  /**
   * Clock exchange: every message sent carries readMs() (this node's clock, ms since epoch);
   * every message received reports the sender's reading to onPeer (the decision clock).
   */
  peerClock?: { readMs(): number; onPeer(from: NodeId, clockMs: number): void };
  /** Snapshot streaming tuning (chunk size, chunks in flight, stall timeout). */
  snapshotStream?: { chunkBytes?: number; windowChunks?: number; stallTimeoutMs?: number };
  /** Observes every log-store transaction (one fsync each): the bench's fsync histogram. */
  onSync?: (durationMs: number, entries: number) => void;
  /** Diagnosis: per-stage marks of entry index ranges (bench:raft TRACE=1); off when absent. */
  entryTracer?: EntryTracer;
}

export interface ResolvedEnv {
  nowMs: () => number;
  randomInt: (n: number) => number;
}

export function resolveEnv(o: {
  nowMs?: () => number;
  randomInt?: (n: number) => number;
}): ResolvedEnv {
  return {
    nowMs: o.nowMs ?? (() => performance.now()),
    randomInt: o.randomInt ?? ((n: number) => randomInt(n)),
  };
}

export function raftConfig<R>(o: RaftNodeOptions<R>, applied: number): RaftConfig {
  const tickMs = o.tickMs ?? 50;
  const electionTicks = o.electionTicks ?? 10;
  const heartbeatTicks = o.heartbeatTicks ?? 1;
  if (!(tickMs > 0) || !(electionTicks > heartbeatTicks) || !(heartbeatTicks >= 1)) {
    throw new DrlError(
      'invalid_argument',
      'raft: need tickMs > 0 and electionTicks > heartbeatTicks >= 1',
    );
  }
  return {
    id: o.id,
    peers: Object.keys(o.peers),
    electionTicks,
    heartbeatTicks,
    tickMs,
    clockDriftBound: 0.01,
    maxInflightMsgs: 256,
    maxInflightBytes: 32 * 1024 * 1024,
    maxEntriesBytesPerMsg: 1024 * 1024,
    preVote: true,
    checkQuorum: true,
    testBugs: new Set(),
    applied,
    ...o.raft,
  };
}
