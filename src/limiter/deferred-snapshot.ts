import { type RequestEntry, requestRecord } from './request-table.js';
import type { DeferredSnapshotSource, SnapshotOp, SnapshotWriter } from './types.js';
import type { FrozenWindows } from './window-store.js';

export interface FrozenPart {
  rule: string;
  store: FrozenWindows;
  /** Positions frozen in the store. */
  count: number;
}

/**
 * An incremental snapshot as of one applied index whose window records are read after the
 * capture, a few at a time, while the engine goes on applying (copy-on-write: see
 * SlotTable.freezeDirty). The changed requestIds' entries are listed at the capture and become
 * records when written (an entry object never changes); the rest (meta, rules, overrides,
 * deletes) was copied at the capture. The caller begins and commits the writer's transaction;
 * `writeSome` only puts and deletes. Ends (the stores' marks released) when fully written or on
 * `release`.
 */
export class DeferredSnapshot implements DeferredSnapshotSource {
  private opAt = 0;
  private requestAt = 0;
  private partAt = 0;
  private posAt = 0;
  private ended = false;

  /** ops: copied at the capture; requests: changed requestIds' entries; parts: per store. */
  constructor(
    readonly index: number,
    private readonly ops: SnapshotOp[],
    private readonly requests: Array<[string, RequestEntry]>,
    private readonly parts: FrozenPart[],
    private readonly onEnd: () => void,
  ) {}

  /** Records to write at most (a frozen key evicted before the capture writes nothing). */
  get records(): number {
    let n = this.ops.length + this.requests.length;
    for (const part of this.parts) n += part.count;
    return n;
  }

  /** Writes up to `recordsMax` more records; true once all are written (then it has ended). */
  writeSome(writer: SnapshotWriter, recordsMax: number): boolean {
    if (this.ended) throw new Error('deferred snapshot: written after it ended');
    let budget = recordsMax;
    while (budget > 0 && this.opAt < this.ops.length) {
      const op = this.ops[this.opAt++]!;
      if (op.put) writer.put(op.put);
      else writer.delete(op.del);
      budget--;
    }
    while (budget > 0 && this.requestAt < this.requests.length) {
      const [id, entry] = this.requests[this.requestAt++]!;
      writer.put(requestRecord(id, entry));
      budget--;
    }
    while (budget > 0 && this.partAt < this.parts.length) {
      const part = this.parts[this.partAt]!;
      if (this.posAt === part.count) {
        this.partAt++;
        this.posAt = 0;
        continue;
      }
      const frozen = part.store.frozenRecord(this.posAt++);
      budget--;
      if (frozen === null) continue;
      if (frozen.data !== undefined) {
        writer.put({ kind: 'window', rule: part.rule, key: frozen.key, data: frozen.data });
      } else writer.delete({ kind: 'window', rule: part.rule, key: frozen.key });
    }
    const done =
      this.opAt === this.ops.length &&
      this.requestAt === this.requests.length &&
      this.partAt === this.parts.length;
    if (done) this.release();
    return done;
  }

  /** Ends the snapshot (written or dropped): the stores stop copying. Idempotent. */
  release(): void {
    if (this.ended) return;
    this.ended = true;
    for (const part of this.parts) part.store.releaseFrozen();
    this.onEnd();
  }
}
