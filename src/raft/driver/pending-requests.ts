import { DrlError } from '../../errors.js';
import type { Entry } from '../types.js';
import type { Proposed } from './state-machine.js';

interface PendingProposal<R> {
  index: number;
  /** The exact bytes proposed: an applied entry at `index` with another buffer is not ours. */
  data: Uint8Array;
  deadlineMs: number;
  resolve: (value: Proposed<R>) => void;
  reject: (err: Error) => void;
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
 * timeouts are swept from the head of a FIFO on each tick instead of one timer per request.
 */
export class PendingRequests<R> {
  private readonly proposals = new Map<number, PendingProposal<R>>();
  private proposalFifo: PendingProposal<R>[] = [];
  private proposalHead = 0;
  private readonly reads = new Map<number, PendingRead>();
  private readFifo: PendingRead[] = [];
  private readHead = 0;
  private nextReadId = 1;

  get size(): number {
    return this.proposals.size + this.reads.size;
  }

  addProposal(index: number, data: Uint8Array, deadlineMs: number): Promise<Proposed<R>> {
    // An older proposal at the same index was truncated by a later leader: it can never apply.
    const old = this.proposals.get(index);
    if (old) old.reject(new DrlError('not_leader', `proposal at ${index} lost to another leader`));
    return new Promise((resolve, reject) => {
      const p = { index, data, deadlineMs, resolve, reject };
      this.proposals.set(index, p);
      this.proposalFifo.push(p);
    });
  }

  /** True if `applied(entry, ...)` would resolve a proposal with the result (it is read). */
  waits(entry: Entry): boolean {
    return this.proposals.get(entry.index)?.data === entry.data;
  }

  /** Settles the proposal waiting at entry.index, if any. */
  applied(entry: Entry, result: R): void {
    const p = this.proposals.get(entry.index);
    if (!p) return;
    this.proposals.delete(entry.index);
    if (p.data === entry.data) p.resolve({ index: entry.index, result });
    else p.reject(new DrlError('not_leader', `proposal at ${entry.index} lost to another leader`));
  }

  newRead(deadlineMs: number): { id: number; promise: Promise<number> } {
    const id = this.nextReadId++;
    const promise = new Promise<number>((resolve, reject) => {
      const r = { id, index: -1, deadlineMs, resolve, reject };
      this.reads.set(id, r);
      this.readFifo.push(r);
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
    while (this.proposalHead < this.proposalFifo.length) {
      const p = this.proposalFifo[this.proposalHead]!;
      if (this.proposals.get(p.index) === p) {
        if (p.deadlineMs > nowMs) break;
        this.proposals.delete(p.index);
        p.reject(new DrlError('unavailable', `proposal at ${p.index} not applied in time`));
      }
      this.proposalHead++;
    }
    while (this.readHead < this.readFifo.length) {
      const r = this.readFifo[this.readHead]!;
      if (this.reads.get(r.id) === r) {
        if (r.deadlineMs > nowMs) break;
        this.readFailed(r.id, new DrlError('unavailable', 'read index not confirmed in time'));
      }
      this.readHead++;
    }
    this.compactFifos();
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
    for (const p of this.proposals.values()) p.reject(err);
    for (const r of this.reads.values()) r.reject(err);
    this.proposals.clear();
    this.reads.clear();
    this.compactFifos();
  }

  private settleRead(r: PendingRead): void {
    this.reads.delete(r.id);
    r.resolve(r.index);
  }

  /** Keeps the FIFOs bounded by what is still pending. */
  private compactFifos(): void {
    if (this.proposalHead > 1024 && this.proposalHead * 2 > this.proposalFifo.length) {
      this.proposalFifo = this.proposalFifo.slice(this.proposalHead);
      this.proposalHead = 0;
    }
    if (this.readHead > 1024 && this.readHead * 2 > this.readFifo.length) {
      this.readFifo = this.readFifo.slice(this.readHead);
      this.readHead = 0;
    }
    if (this.proposals.size === 0) {
      this.proposalFifo = [];
      this.proposalHead = 0;
    }
    if (this.reads.size === 0) {
      this.readFifo = [];
      this.readHead = 0;
    }
  }
}
