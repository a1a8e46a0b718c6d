import type { Entry, HardState, LogView, Ready, SnapshotMeta } from '../types.js';
import { entrySize } from './entry-size.js';

export interface MemoryLogInit {
  hardState?: HardState;
  snapshot?: SnapshotMeta | null;
  entries?: Entry[];
}

/**
 * An in-memory LogView for tests and the simulator. `persist(ready)` applies step 1 of a
 * Ready (snapshot, entries with overwrite, hard state) exactly as durable storage must, so a
 * simulated restart is `new MemoryLogView(old.dump())`.
 */
export class MemoryLogView implements LogView {
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  private ents: Entry[];

  constructor(init: MemoryLogInit = {}) {
    this.hardState = init.hardState ?? { term: 0, vote: null, commit: 0 };
    this.snapshot = init.snapshot ?? null;
    this.ents = [...(init.entries ?? [])];
    let expected = this.firstIndex();
    for (const e of this.ents) {
      if (e.index !== expected) throw new Error(`MemoryLogView: expected index ${expected}`);
      expected++;
    }
  }

  firstIndex(): number {
    return (this.snapshot?.index ?? 0) + 1;
  }

  lastIndex(): number {
    return this.firstIndex() + this.ents.length - 1;
  }

  term(index: number): number {
    if (index === this.firstIndex() - 1) return this.snapshot?.term ?? 0;
    const e = this.ents[index - this.firstIndex()];
    if (!e) throw new RangeError(`MemoryLogView: no entry ${index}`);
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - this.firstIndex()];
      if (!e) break;
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Step 1 of a Ready: snapshot, then entries (overwriting a suffix), then hard state. */
  persist(ready: Ready): void {
    if (ready.snapshot) {
      this.snapshot = ready.snapshot;
      this.ents = [];
    }
    const first = ready.entries[0];
    if (first) {
      const keep = first.index - this.firstIndex();
      if (keep < 0) throw new Error(`MemoryLogView: entry ${first.index} before first index`);
      this.ents.length = Math.min(this.ents.length, keep);
      for (const e of ready.entries) this.ents.push(e);
    }
    if (ready.hardState) this.hardState = { ...ready.hardState };
  }

  /** Drops entries up to meta.index, which a state machine snapshot now covers. */
  compact(meta: SnapshotMeta): void {
    if (meta.index < this.firstIndex()) return;
    if (meta.index > this.lastIndex() || this.term(meta.index) !== meta.term) {
      throw new Error(`MemoryLogView: cannot compact to ${meta.index}/${meta.term}`);
    }
    this.ents = this.ents.slice(meta.index - this.firstIndex() + 1);
    this.snapshot = meta;
  }

  dump(): MemoryLogInit {
    return { hardState: { ...this.hardState }, snapshot: this.snapshot, entries: [...this.ents] };
  }
}
