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
 *
 * With asyncLogWrites (src/raft/driver's option), the write of a Ready is posted and its fsync
 * completes in a later event (writeLater -> processWriteDone): messages, ticks, proposals,
 * snapshots and crashes land between ready() and advance(), as with the real writer thread.
 * One write in flight at a time; durable committed entries are applied meanwhile.
 */
import { type Entry, type Message, MessageType, type Ready } from '../../src/raft/types.js';
import type { Checker, Fail } from './checker.js';
import type { SimNode, WriteInFlight } from './sim-node.js';
import type { MachineImage } from './state-machine.js';
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
  /** Complete the node's write in flight (fsync, then processWriteDone) in a later event. */
  writeLater(node: SimNode): void;
  /** Stream this node's latest state machine snapshot to each peer the core names. */
  sendSnapshots(from: SimNode, sends: Ready['snapshotSends']): void;
  snapshotTaken(node: SimNode): void;
  snapshotInstalled(node: SimNode): void;
}

/** `full`: the deferred turn after an apply-first pass (no second apply-first pass). */
export function processReady(node: SimNode, hooks: DriverHooks, full = false): void {
  node.touched = true;
  if (node.asyncWrites) {
    processReadyAsync(node, hooks);
    return;
  }
  if (!full && node.up && node.applyDurableFirst && node.raft.hasDurableCommitted()) {
    const rd = node.raft.readyDurableCommitted();
    apply(node, null, rd.committedEntries, rd.readStates, hooks);
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
    const image = takeImage(node, rd, hooks);
    if (write(node, rd, image, hooks) && !sync(node, hooks)) return;
    sendMessages(node, rd.messages, early ? 'rest' : 'all', hooks);
    if (rd.snapshotSends.length > 0) hooks.sendSnapshots(node, rd.snapshotSends);
    apply(node, image, rd.committedEntries, rd.readStates, hooks);
    node.raft.advance(rd);
    if (node.maybeSnapshot()) hooks.snapshotTaken(node);
  }
  // A staged snapshot the core did not take is stale: discard it.
  node.stagedSnapshot = null;
}

/** src/raft/driver's processReadiesAsync + startReady. */
function processReadyAsync(node: SimNode, hooks: DriverHooks): void {
  if (node.up && node.raft.hasDurableCommitted()) {
    const rd = node.raft.readyDurableCommitted();
    apply(node, null, rd.committedEntries, [], hooks);
    node.raft.advance(rd);
    if (node.maybeSnapshot()) hooks.snapshotTaken(node);
  }
  for (let round = 0; node.up && node.writing === null && node.raft.hasReady(); round++) {
    if (round >= READY_ROUNDS_MAX)
      hooks.fail('Ready loop bound', `${node.id} never stops producing Ready`);
    const rd = node.raft.ready();
    if (rd.softState !== null) node.role = rd.softState.role;
    const early = earlySendAllowed(node, rd);
    if (early) sendMessages(node, rd.messages, 'replication', hooks);
    // Snapshot sends depend on nothing this Ready writes: started now (the snapshot they name
    // is the latest at ready(); a later one taken while the write is in flight would replace it).
    if (rd.snapshotSends.length > 0) hooks.sendSnapshots(node, rd.snapshotSends);
    const image = takeImage(node, rd, hooks);
    // Committed entries below the first new entry are durable (no write is in flight).
    let later = rd.committedEntries;
    if (rd.snapshot === null) {
      const firstNew = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY;
      let n = 0;
      while (n < later.length && (later[n] as Entry).index < firstNew) n++;
      if (n > 0) {
        apply(node, null, later.slice(0, n), [], hooks);
        later = later.slice(n);
      }
    }
    const flight = { rd, early, image, later };
    if (write(node, rd, image, hooks)) {
      node.writing = flight;
      hooks.writeLater(node);
    } else {
      finishWrite(node, flight, hooks);
    }
  }
  if (node.up && node.writing === null) node.stagedSnapshot = null;
}

/** The write in flight reached its fsync (a later event): finish its Ready, take the next. */
export function processWriteDone(node: SimNode, hooks: DriverHooks): void {
  const flight = node.writing;
  if (flight === null) hooks.fail('Write in flight', `${node.id} completed no write`);
  node.touched = true;
  if (!sync(node, hooks)) return;
  node.writing = null;
  finishWrite(node, flight, hooks);
  processReadyAsync(node, hooks);
}

function finishWrite(node: SimNode, f: WriteInFlight, hooks: DriverHooks): void {
  sendMessages(node, f.rd.messages, f.early ? 'rest' : 'all', hooks);
  apply(node, f.image, f.later, f.rd.readStates, hooks);
  node.raft.advance(f.rd);
  if (node.maybeSnapshot()) hooks.snapshotTaken(node);
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

/** The staged snapshot image a Ready installs (taken: a later Snap may stage another). */
function takeImage(node: SimNode, rd: Ready, hooks: DriverHooks): MachineImage | null {
  if (rd.snapshot === null) return null;
  const image = node.stagedSnapshot;
  if (image === null || image.applied !== rd.snapshot.index) {
    hooks.fail(
      'Snapshot staging',
      `${node.id} asked to install ${rd.snapshot.index} it was not sent`,
    );
  }
  node.stagedSnapshot = null;
  return image;
}

/** Writes the Ready (not synced yet); false when it needs no write (nothing, or commit-only). */
function write(node: SimNode, rd: Ready, image: MachineImage | null, hooks: DriverHooks): boolean {
  const wrote = rd.entries.length > 0 || rd.hardState !== null || rd.snapshot !== null;
  if (!wrote) return false;
  if (rd.snapshot !== null && image !== null) {
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
    return false;
  }
  node.disk.writeEntries(rd.entries);
  const latest = hs ?? node.unwrittenHardState;
  node.unwrittenHardState = null;
  if (latest !== null) node.disk.writeHardState(latest);
  hooks.checker.onWritten(node.id, node.disk.written, rd.entries);
  return true;
}

/** The fsync of what write() wrote; false when the node crashed before it. */
function sync(node: SimNode, hooks: DriverHooks): boolean {
  if (node.crashBeforeSync) {
    hooks.crashedBeforeSync(node);
    return false;
  }
  node.disk.sync();
  hooks.checker.onSynced(node.id, node.disk.synced);
  return true;
}

function apply(
  node: SimNode,
  image: MachineImage | null,
  committed: readonly Entry[],
  readStates: Ready['readStates'],
  hooks: DriverHooks,
): void {
  if (image !== null) {
    hooks.checker.onInstall(node.id, image.applied, image.digest);
    node.installMachine(image);
    hooks.snapshotInstalled(node);
  }
  for (const e of committed) {
    if (e.index !== node.sm.applied + 1) {
      hooks.fail('Apply order', `${node.id} applied ${e.index} after ${node.sm.applied}`);
    }
    node.sm.apply(e);
    node.afterApply();
    hooks.checker.onApply(node.id, e, node.sm.digest);
    hooks.workload.onApply(node, e);
  }
  for (const rs of readStates) hooks.workload.onReadState(node, rs);
  if (committed.length > 0 || readStates.length > 0) {
    hooks.workload.completeReads(node);
  }
}
