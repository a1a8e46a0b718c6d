/**
 * What a real driver does with a Ready, step by step, so that a crash can land between
 * steps: (1) write snapshot/entries/hard state, (2) fsync, (3) send messages, (4) apply
 * committed entries and answer reads, (5) advance.
 *
 * With applyDurableFirst (src/raft/driver's option), committed entries that are already
 * durable are first applied and acknowledged on their own (readyDurableCommitted), and the full
 * Ready follows in a later event, so messages, proposals, ticks and crashes can land between.
 * Like RaftLogStore, a Ready that changes only the commit index writes nothing: the commit
 * reaches the disk with the next write.
 */
import { type Message, MessageType, type Ready } from '../../src/raft/types.js';
import type { Checker, Fail } from './checker.js';
import type { SimNode } from './sim-node.js';
import type { Workload } from './workload.js';

/** A node that keeps producing Ready without input is a core bug (livelock); bound the loop. */
const READY_ROUNDS_MAX = 64;

export interface DriverHooks {
  checker: Checker;
  workload: Workload;
  fail: Fail;
  send(from: SimNode, message: Message): void;
  /** The node died between write and fsync (an armed crash-before-sync fault). */
  crashedBeforeSync(node: SimNode): void;
  /** Run the full Ready of this node in a later event (after an apply-first pass). */
  deferReady(node: SimNode): void;
  /** Stream this node's latest state machine snapshot to each peer the core names. */
  sendSnapshots(from: SimNode, sends: Ready['snapshotSends']): void;
  snapshotTaken(node: SimNode): void;
  snapshotInstalled(node: SimNode): void;
}

/** `full`: the deferred turn after an apply-first pass (no second apply-first pass). */
export function processReady(node: SimNode, hooks: DriverHooks, full = false): void {
  node.touched = true;
  if (!full && node.up && node.applyDurableFirst && node.raft.hasDurableCommitted()) {
    const rd = node.raft.readyDurableCommitted();
    apply(node, rd, hooks);
    node.raft.advance(rd);
    if (node.maybeSnapshot()) hooks.snapshotTaken(node);
    if (node.raft.hasReady()) {
      node.readyDeferred = true;
      hooks.deferReady(node);
    }
    return;
  }
  node.readyDeferred = false;
  for (let round = 0; node.up && node.raft.hasReady(); round++) {
    if (round >= READY_ROUNDS_MAX)
      hooks.fail('Ready loop bound', `${node.id} never stops producing Ready`);
    const rd = node.raft.ready();
    if (rd.softState !== null) node.role = rd.softState.role;
    const early = earlySendAllowed(node, rd);
    if (early) sendMessages(node, rd.messages, 'replication', hooks);
    if (!persist(node, rd, hooks)) return;
    sendMessages(node, rd.messages, early ? 'rest' : 'all', hooks);
    if (rd.snapshotSends.length > 0) hooks.sendSnapshots(node, rd.snapshotSends);
    apply(node, rd, hooks);
    node.raft.advance(rd);
    if (node.maybeSnapshot()) hooks.snapshotTaken(node);
  }
  // A staged snapshot the core did not take is stale: discard it.
  node.stagedSnapshot = null;
}

/**
 * What src/raft/driver does (Raft thesis 10.2.1): a leader whose term and vote are already
 * durable sends its App and Heartbeat messages before its own fsync; the core counts the
 * leader's entries toward commit only once advance() reports them durable. A crash before
 * that fsync then lands after the messages left.
 */
function earlySendAllowed(node: SimNode, rd: Ready): boolean {
  if (!node.leaderSendsBeforePersist || rd.snapshot !== null || node.role !== 'leader')
    return false;
  const hs = rd.hardState;
  const durable = node.disk.synced.hardState;
  return hs === null || (hs.term === durable.term && hs.vote === durable.vote);
}

function sendMessages(
  node: SimNode,
  messages: readonly Message[],
  which: 'replication' | 'rest' | 'all',
  hooks: DriverHooks,
): void {
  for (const m of messages) {
    const replication = m.type === MessageType.App || m.type === MessageType.Heartbeat;
    if (which !== 'all' && replication !== (which === 'replication')) continue;
    if (m.from !== node.id)
      hooks.fail('Message origin', `${node.id} sent a message from ${m.from}`);
    hooks.send(node, m);
  }
}

/** Returns false when the node crashed before the fsync. */
function persist(node: SimNode, rd: Ready, hooks: DriverHooks): boolean {
  const wrote = rd.entries.length > 0 || rd.hardState !== null || rd.snapshot !== null;
  if (!wrote) return true;
  if (rd.snapshot !== null) {
    const image = node.stagedSnapshot;
    if (image === null || image.applied !== rd.snapshot.index) {
      hooks.fail(
        'Snapshot staging',
        `${node.id} asked to install ${rd.snapshot.index} it was not sent`,
      );
    }
    const base = hooks.checker.committedPrefixAt(rd.snapshot.index) ?? 0;
    node.disk.writeSnapshot(rd.snapshot, base, image);
  }
  const written = node.disk.written.hardState;
  const hs = rd.hardState;
  if (
    rd.snapshot === null &&
    rd.entries.length === 0 &&
    hs !== null &&
    hs.term === written.term &&
    hs.vote === written.vote
  ) {
    // Commit-only: kept in memory, written with the next batch (RaftLogStore does the same).
    node.unwrittenHardState = hs;
    return true;
  }
  node.disk.writeEntries(rd.entries);
  const latest = hs ?? node.unwrittenHardState;
  node.unwrittenHardState = null;
  if (latest !== null) node.disk.writeHardState(latest);
  hooks.checker.onWritten(node.id, node.disk.written, rd.entries);
  if (node.crashBeforeSync) {
    hooks.crashedBeforeSync(node);
    return false;
  }
  node.disk.sync();
  hooks.checker.onSynced(node.id, node.disk.synced);
  return true;
}

function apply(node: SimNode, rd: Ready, hooks: DriverHooks): void {
  if (rd.snapshot !== null && node.stagedSnapshot !== null) {
    const image = node.stagedSnapshot;
    node.stagedSnapshot = null;
    hooks.checker.onInstall(node.id, image.applied, image.digest);
    node.installMachine(image);
    hooks.snapshotInstalled(node);
  }
  for (const e of rd.committedEntries) {
    if (e.index !== node.sm.applied + 1) {
      hooks.fail('Apply order', `${node.id} applied ${e.index} after ${node.sm.applied}`);
    }
    node.sm.apply(e);
    node.afterApply();
    hooks.checker.onApply(node.id, e, node.sm.digest);
    hooks.workload.onApply(node, e);
  }
  for (const rs of rd.readStates) hooks.workload.onReadState(node, rs);
  if (rd.committedEntries.length > 0 || rd.readStates.length > 0) {
    hooks.workload.completeReads(node);
  }
}
