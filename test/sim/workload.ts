/**
 * The clients: proposals sent to whoever believes it leads, and linearizable reads (lease and
 * ReadIndex). A write is acknowledged when the node it was proposed to applies that very entry
 * (what a real driver returns to its client); every read must observe every write acknowledged
 * before the read began.
 */
import { isDrlError } from '../../src/errors.js';
import type { Entry, ReadState } from '../../src/raft/types.js';
import type { Fail } from './checker.js';
import type { Prng } from './prng.js';
import type { SimNode } from './sim-node.js';
import { decodeWrite, encodeWrite } from './state-machine.js';
import type { SimStats } from './stats.js';

type ReadKind = 'lease' | 'readIndex';

interface PendingRead {
  kind: ReadKind;
  node: SimNode;
  incarnation: number;
  key: number;
  /** Acks numbered below this happened before the read began. */
  ackSeqAtStart: number;
  /** Highest log index of a write acknowledged before the read began. */
  minIndex: number;
  /** Index the read is served at, once known. */
  readIndex: number | null;
}

interface Ack {
  writeId: number;
  seq: number;
}

/** Reads waiting for an answer are bounded; older ones are dropped as a client timeout would. */
const PENDING_READS_MAX = 256;

export class Workload {
  private nextWriteId = 1;
  private nextReadId = 1;
  ackSeq = 0;
  private maxAckedIndex = 0;
  private readonly ackedByKey: Ack[][] = [];
  private readonly reads = new Map<number, PendingRead>();

  constructor(
    private readonly rng: Prng,
    private readonly keys: number,
    private readonly stats: SimStats,
    private readonly fail: Fail,
  ) {
    for (let k = 0; k < keys; k++) this.ackedByKey.push([]);
  }

  /** Submit a small batch of writes to `node` (which believes it leads). */
  propose(node: SimNode, batch: number): void {
    for (let i = 0; i < batch; i++) {
      const cmd = { writeId: this.nextWriteId++, key: this.rng.int(this.keys) };
      let index: number;
      try {
        index = node.raft.propose(encodeWrite(cmd));
      } catch (err) {
        if (!isRefusal(err)) throw err;
        this.stats.proposalsRejected++;
        return;
      }
      this.stats.proposals++;
      if (node.pendingWrites.has(index)) this.stats.proposalsLost++;
      node.pendingWrites.set(index, cmd);
    }
  }

  /** The driver applied `entry` at `node`: acknowledge the write if it is the one proposed there. */
  onApply(node: SimNode, entry: Entry): void {
    const pending = node.pendingWrites.get(entry.index);
    if (pending === undefined) return;
    node.pendingWrites.delete(entry.index);
    const cmd = decodeWrite(entry);
    if (cmd === null || cmd.writeId !== pending.writeId) {
      this.stats.proposalsLost++;
      return;
    }
    this.stats.proposalsCommitted++;
    (this.ackedByKey[cmd.key] as Ack[]).push({ writeId: cmd.writeId, seq: this.ackSeq++ });
    if (entry.index > this.maxAckedIndex) this.maxAckedIndex = entry.index;
  }

  /** A lease read: served at the leader's commit index if it holds a lease right now. */
  leaseRead(node: SimNode): void {
    const core = node.raft;
    if (!core.hasLease()) {
      this.stats.readsRefused++;
      return;
    }
    const read = this.newRead('lease', node);
    read.readIndex = core.status().commit;
    this.track(this.nextReadId++, read);
    this.completeReads(node);
  }

  /** A ReadIndex read: the core answers with a ReadState in a later Ready. */
  readIndexRead(node: SimNode): void {
    const id = this.nextReadId++;
    try {
      node.raft.readIndex(id);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      this.stats.readsRefused++;
      return;
    }
    this.track(id, this.newRead('readIndex', node));
  }

  onReadState(node: SimNode, rs: ReadState): void {
    const read = this.reads.get(rs.requestId);
    if (read === undefined) return;
    if (read.node !== node || read.incarnation !== node.incarnation) {
      this.fail(
        'ReadState routing',
        `read ${rs.requestId} answered at ${node.id}, asked elsewhere`,
      );
    }
    read.readIndex = rs.index;
  }

  /** Serve every read at `node` whose index it has applied, checking what it observes. */
  completeReads(node: SimNode): void {
    for (const [id, read] of this.reads) {
      if (read.node !== node) continue;
      if (read.incarnation !== node.incarnation || !node.up) {
        this.reads.delete(id);
        continue;
      }
      if (read.readIndex === null || node.sm.applied < read.readIndex) continue;
      this.reads.delete(id);
      this.check(id, read);
    }
  }

  private check(id: number, read: PendingRead): void {
    const where = `${read.kind} read ${id} at ${read.node.id}`;
    const index = read.readIndex as number;
    if (index < read.minIndex) {
      this.fail(
        'Linearizable read',
        `${where} served at index ${index}, below acknowledged write at ${read.minIndex}`,
      );
    }
    const seen = new Set(read.node.sm.read(read.key));
    for (const ack of this.ackedByKey[read.key] as Ack[]) {
      if (ack.seq >= read.ackSeqAtStart) break;
      if (!seen.has(ack.writeId)) {
        this.fail('Linearizable read', `${where} misses acknowledged write ${ack.writeId}`);
      }
    }
    if (read.kind === 'lease') this.stats.leaseReads++;
    else this.stats.readIndexReads++;
  }

  private newRead(kind: ReadKind, node: SimNode): PendingRead {
    return {
      kind,
      node,
      incarnation: node.incarnation,
      key: this.rng.int(this.keys),
      ackSeqAtStart: this.ackSeq,
      minIndex: this.maxAckedIndex,
      readIndex: null,
    };
  }

  private track(id: number, read: PendingRead): void {
    if (this.reads.size >= PENDING_READS_MAX) {
      const oldest = this.reads.keys().next().value as number;
      this.reads.delete(oldest);
    }
    this.reads.set(id, read);
  }
}

/** A core's documented way of saying "not now": not the leader, or busy. */
function isRefusal(err: unknown): boolean {
  return isDrlError(err) && (err.code === 'not_leader' || err.code === 'unavailable');
}
