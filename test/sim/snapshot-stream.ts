/**
 * State machine snapshots streamed leader -> follower, one simulated event per stream: it is
 * lost (link cut or loss) or arrives whole; chunking and CRC are the real driver's business.
 * On arrival the follower stages the image and steps one Snap message (done: true) into its
 * core; either way the leader then hears reportSnapshot(to, delivered).
 */
import { type Message, MessageType, type Ready, type SnapshotMeta } from '../../src/raft/types.js';
import type { Fail } from './checker.js';
import type { Network } from './network.js';
import type { Prng } from './prng.js';
import type { SimNode } from './sim-node.js';
import type { MachineImage } from './state-machine.js';
import type { SimStats } from './stats.js';

export interface SnapshotStream {
  from: SimNode;
  fromIncarnation: number;
  to: SimNode;
  term: number;
  meta: SnapshotMeta;
  image: MachineImage;
  /** False when the stream broke (lost): the leader hears ok=false. */
  arrives: boolean;
  /** Simulated time the stream ends. */
  atMs: number;
}

export interface StreamContext {
  readonly rng: Prng;
  readonly stats: SimStats;
  readonly network: Network;
  nowMs(): number;
  nodeById(id: string): SimNode | undefined;
  fail: Fail;
  trace(line: string): void;
  /** Let the node's driver run after its core was called. */
  afterCall(node: SimNode): void;
}

/** The leader's driver starts streaming its latest snapshot; null if nothing to stream. */
export function startStream(
  ctx: StreamContext,
  from: SimNode,
  send: Ready['snapshotSends'][number],
): SnapshotStream | null {
  const image = from.latestSnapshot;
  // Like src/raft/driver (startSnapshotSend), the stream carries the latest snapshot, which
  // may be newer than the one the Ready named: with async log writes a snapshot can be taken
  // between the step that asked for the send and the ready() that hands it out.
  const latest = from.raft.snapshotMeta();
  const meta =
    image !== null &&
    latest !== null &&
    latest.index === image.applied &&
    latest.index > send.meta.index
      ? latest
      : send.meta;
  if (image === null || image.applied !== meta.index) {
    ctx.fail(
      'Snapshot send',
      `${from.id} asked to send snapshot ${send.meta.index} it does not hold`,
    );
  }
  const to = ctx.nodeById(send.to);
  if (to === undefined) ctx.fail('Snapshot send', `${from.id} streams to unknown ${send.to}`);
  ctx.stats.snapshotsSent++;
  const delays = ctx.network.isCut(from.index, to.index) ? [] : ctx.network.delaysFor();
  const atMs = ctx.nowMs() + (delays[0] ?? 50) + ctx.rng.range(2, 30);
  const term = from.raft.status().term;
  return {
    from,
    fromIncarnation: from.incarnation,
    to,
    term,
    meta,
    image,
    arrives: delays.length > 0,
    atMs,
  };
}

/** The stream ended: install at the follower if it got through, then tell the leader. */
export function finishStream(ctx: StreamContext, snap: SnapshotStream): void {
  const { from, to } = snap;
  let delivered = false;
  if (snap.arrives && to.up && !ctx.network.isCut(from.index, to.index)) {
    to.stagedSnapshot = snap.image;
    to.raft.step(snapMessage(snap));
    ctx.afterCall(to);
    delivered = true;
  }
  ctx.trace(`snapshot ${snap.meta.index} ${from.id}->${to.id} ${delivered ? 'delivered' : 'lost'}`);
  if (from.up && from.incarnation === snap.fromIncarnation) {
    from.raft.reportSnapshot(to.id, delivered);
    ctx.afterCall(from);
  }
}

function snapMessage(snap: SnapshotStream): Message {
  return {
    type: MessageType.Snap,
    from: snap.from.id,
    to: snap.to.id,
    term: snap.term,
    logTerm: 0,
    index: 0,
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
    context: 0,
    snapshot: { meta: snap.meta, offset: 0, data: new Uint8Array(0), done: true, checksum: 0 },
  };
}
