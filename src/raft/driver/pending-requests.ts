import { DrlError } from '../../errors.js';
import type { Entry } from '../types.js';
import { CallbackBatch } from './callback-batch.js';
import { IndexOrderedQueue } from './index-ordered-queue.js';
import type { ProposalDone } from './state-machine.js';

interface PendingProposal<R> {
  index: number;
  /** The exact bytes proposed: an applied entry at `index` with another buffer is not ours. */
  data: Uint8Array;
  deadlineMs: number;
  done: ProposalDone<R>;
}

interface PendingRead {
  id: number;
  /** Read index once the core answered, else -1. */
  index: number;
  deadlineMs: number;
  resolve: (index: number) => void;
  reject: (err: Error) => void;
}

/**
 * Proposals and reads waiting for the state machine. Deadlines grow with insertion order, so
 * timeouts are swept from the front on each tick instead of one timer per request. Proposals
 * sit in index order (a leader proposes at rising indices) in a ring; reads, rarer, in a Map
 * (which iterates in insertion order). Nothing else holds a settled request, so it dies young:
 * a FIFO array beside a proposals Map used to keep ~2,000 settled proposals (each with its
 * promise, resolvers and the caller's `.then` chain) until it was sliced, and the Map's churned
 * hash tables were promoted one after another; at 10,000 proposals/s that was most of what the
 * leader's scavenges copied (5-13 ms pauses).
 */
export class PendingRequests<R> {
  private readonly proposals = new IndexOrderedQueue<PendingProposal<R>>();
  private readonly callbacks = new CallbackBatch<R>();
  private readonly reads = new Map<number, PendingRead>();
  private nextReadId = 1;

  get size(): number {
    return this.proposals.size + this.reads.size;
  }

  addProposal(index: number, data: Uint8Array, deadlineMs: number, done: ProposalDone<R>): void {
    // A leader proposes past its last entry, so pending proposals at or after `index` were cut
    // from this node's log by a later leader: they can never apply with these bytes.
    for (let last = this.proposals.last(); last && last.index >= index; ) {
      this.fail(this.proposals.pop()!, lostToLeader(last.index));
      last = this.proposals.last();
    }
    this.proposals.push({ index, data, deadlineMs, done });
  }

  /** Calls `done` with `err` in a later microtask, as a settled proposal would be. */
  refuse(done: ProposalDone<R>, err: Error): void {
    this.callbacks.push(done, err, null);
  }

  /** True if `applied(entry, ...)` would resolve a proposal with the result (it is read). */
  waits(entry: Entry): boolean {
    return this.proposals.find(entry.index)?.data === entry.data;
  }

  /** Settles the proposal waiting at entry.index, if any. Entries apply in index order. */
  applied(entry: Entry, result: R): void {
    for (let p = this.proposals.first(); p && p.index <= entry.index; ) {
      this.proposals.shift();
      if (p.index < entry.index) {
        // Its index was passed without an apply (a snapshot covered it): outcome unknown.
        this.fail(p, new DrlError('unavailable', `proposal at ${p.index} covered by a snapshot`));
      } else if (p.data === entry.data) {
        this.callbacks.push(p.done, null, { index: entry.index, result });
      } else this.fail(p, lostToLeader(p.index));
      p = this.proposals.first();
    }
  }

  newRead(deadlineMs: number): { id: number; promise: Promise<number> } {
    const id = this.nextReadId++;
    const promise = new Promise<number>((resolve, reject) => {
      this.reads.set(id, { id, index: -1, deadlineMs, resolve, reject });
    });
    return { id, promise };
  }

  readFailed(id: number, err: Error): void {
    const r = this.reads.get(id);
    if (!r) return;
    this.reads.delete(id);
    r.reject(err);
  }

  readIndexKnown(id: number, index: number, applied: number): void {
    const r = this.reads.get(id);
    if (!r) return;
    r.index = index;
    if (index <= applied) this.settleRead(r);
  }

  /** Resolves reads whose index the state machine has now reached. */
  appliedUpTo(applied: number): void {
    if (this.reads.size === 0) return;
    for (const r of this.reads.values()) if (r.index >= 0 && r.index <= applied) this.settleRead(r);
  }

  /** Rejects everything past its deadline with 'unavailable'. */
  expire(nowMs: number): void {
    // Both loops stop at the first deadline still ahead (insertion order is deadline order) and
    // are bounded by what is pending; deleting the visited entry is safe for a Map iterator.
    for (let p = this.proposals.first(); p && p.deadlineMs <= nowMs; ) {
      this.proposals.shift();
      this.fail(p, new DrlError('unavailable', `proposal at ${p.index} not applied in time`));
      p = this.proposals.first();
    }
    for (const r of this.reads.values()) {
      if (r.deadlineMs > nowMs) break;
      this.readFailed(r.id, new DrlError('unavailable', 'read index not confirmed in time'));
    }
  }

  /** Rejects the reads the core has not answered yet (this node stopped leading). */
  rejectUnansweredReads(err: () => Error): void {
    for (const r of this.reads.values()) {
      if (r.index >= 0) continue;
      this.reads.delete(r.id);
      r.reject(err());
    }
  }

  rejectAll(err: Error): void {
    for (let p = this.proposals.shift(); p; p = this.proposals.shift()) this.fail(p, err);
    for (const r of this.reads.values()) r.reject(err);
    this.reads.clear();
  }

  private fail(p: PendingProposal<R>, err: Error): void {
    this.callbacks.push(p.done, err, null);
  }

  private settleRead(r: PendingRead): void {
    this.reads.delete(r.id);
    r.resolve(r.index);
  }
}

function lostToLeader(index: number): DrlError {
  return new DrlError('not_leader', `proposal at ${index} lost to another leader`);
}
