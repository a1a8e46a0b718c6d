import { DrlError } from '../errors.js';
import type { SnapshotMeta } from '../raft/types.js';

/**
 * A log store's write failure. A write that failed after the store's in-memory view moved (an
 * I/O error, a full disk) leaves memory and disk possibly out of step: the store refuses all
 * further use and the node must restart from disk. Both log stores keep one.
 */
export class WriteFailure {
  error: Error | null = null;

  constructor(private readonly path: string) {}

  /** Runs a write; its error poisons the store and is rethrown as 'internal'. */
  guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
      throw new DrlError('internal', `${this.path}: raft log write failed; restart the node`, {
        cause: err,
      });
    }
  }

  /** Throws if an earlier write failed. */
  check(): void {
    if (this.error) {
      throw new DrlError('internal', `${this.path}: raft log unusable after a failed write`, {
        cause: this.error,
      });
    }
  }
}

/** Throws unless [lo, hi) is a non-empty range of the log of `terms` after `snapshot`. */
export function checkEntriesRange(
  terms: number[],
  snapshot: SnapshotMeta | null,
  lo: number,
  hi: number,
): void {
  const first = (snapshot?.index ?? 0) + 1;
  if (lo < first || hi > first + terms.length || lo >= hi) {
    throw new DrlError('internal', `raft log: entries(${lo}, ${hi}) outside the log`);
  }
}

/** Term of `index` in a log of `terms` after `snapshot` (index snapshot.index + 1 + i). */
export function termAt(terms: number[], snapshot: SnapshotMeta | null, index: number): number {
  const snapIndex = snapshot?.index ?? 0;
  if (index === snapIndex) return snapshot?.term ?? 0;
  const term = terms[index - snapIndex - 1];
  if (term === undefined) {
    throw new DrlError(
      'internal',
      `raft log: term(${index}) outside [${snapIndex}, ${snapIndex + terms.length}]`,
    );
  }
  return term;
}
