import type { ConfChange, ConfState, Entry } from '../types.js';
import { EntryType } from '../types.js';
import { decodeConfChange } from './conf-change-codec.js';

/** Applies one single-server change; invalid changes leave the configuration unchanged. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const isVoter = conf.voters.includes(change.id);
  const isLearner = conf.learners.includes(change.id);
  switch (change.type) {
    case 'addLearner':
      if (isVoter || isLearner) return conf;
      return { voters: conf.voters, learners: [...conf.learners, change.id] };
    case 'promote':
      if (!isLearner) return conf;
      return {
        voters: [...conf.voters, change.id],
        learners: conf.learners.filter((id) => id !== change.id),
      };
    case 'remove':
      return {
        voters: conf.voters.filter((id) => id !== change.id),
        learners: conf.learners.filter((id) => id !== change.id),
      };
  }
}

export function confChangeIsValid(conf: ConfState, change: ConfChange): boolean {
  return applyConfChange(conf, change) !== conf;
}

/**
 * The configuration in force, which (dissertation §4.1) is the latest one in the log whether
 * committed or not: the base (from the snapshot) plus each ConfChange entry after it. Keeps
 * one record per ConfChange entry so truncation and compaction can roll it back or fold it in.
 */
export class ConfTracker {
  private baseIndex: number;
  private base: ConfState;
  private readonly changes: Array<{ index: number; conf: ConfState }> = [];

  constructor(baseIndex: number, base: ConfState) {
    this.baseIndex = baseIndex;
    this.base = base;
  }

  current(): ConfState {
    return this.changes[this.changes.length - 1]?.conf ?? this.base;
  }

  /** Index of the latest ConfChange entry in the log (0 if none after the base). */
  lastChangeIndex(): number {
    return this.changes[this.changes.length - 1]?.index ?? 0;
  }

  /** Folds newly appended entries in; true when the configuration changed. */
  appended(entries: Entry[]): boolean {
    let changed = false;
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      const change = decodeConfChange(e.data);
      const conf = change ? applyConfChange(this.current(), change) : this.current();
      this.changes.push({ index: e.index, conf });
      changed = true;
    }
    return changed;
  }

  /** The log was truncated from `index`: forget changes at or after it. */
  truncatedFrom(index: number): boolean {
    let changed = false;
    while ((this.changes[this.changes.length - 1]?.index ?? 0) >= index) {
      this.changes.pop();
      changed = true;
    }
    return changed;
  }

  confAt(index: number): ConfState {
    let conf = this.base;
    for (const c of this.changes) {
      if (c.index > index) break;
      conf = c.conf;
    }
    return conf;
  }

  /** The log was compacted up to `index`. */
  compactedTo(index: number): void {
    if (index <= this.baseIndex) return;
    this.base = this.confAt(index);
    this.baseIndex = index;
    while ((this.changes[0]?.index ?? Number.POSITIVE_INFINITY) <= index) this.changes.shift();
  }

  reset(index: number, conf: ConfState): void {
    this.baseIndex = index;
    this.base = conf;
    this.changes.length = 0;
  }
}
