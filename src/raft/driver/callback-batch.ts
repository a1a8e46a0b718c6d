import type { ProposalDone, Proposed } from './state-machine.js';

/** A batch of callbacks with their arguments, in three arrays reused from batch to batch. */
class Slots<R> {
  fns: ProposalDone<R>[] = [];
  errs: (Error | null)[] = [];
  values: (Proposed<R> | null)[] = [];
  count = 0;
}

/**
 * Proposal callbacks run together in one microtask, after the driver's synchronous work (as
 * promise reactions would, so a callback that proposes again never runs inside an apply), with
 * no promise, resolver pair or closure per proposal. Two slot sets take turns, so callbacks
 * queued while a batch runs wait for the next microtask. A callback that throws does not stop
 * the others or the driver; its error is rethrown on its own.
 */
export class CallbackBatch<R> {
  private queued = new Slots<R>();
  private spare = new Slots<R>();
  private scheduled = false;

  push(fn: ProposalDone<R>, err: Error | null, value: Proposed<R> | null): void {
    const q = this.queued;
    q.fns[q.count] = fn;
    q.errs[q.count] = err;
    q.values[q.count] = value;
    q.count++;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const run = this.queued;
    this.queued = this.spare;
    this.spare = run;
    // Bounded by what was queued before this turn: new pushes go to the other set.
    for (let i = 0; i < run.count; i++) {
      const fn = run.fns[i]!;
      const err = run.errs[i] ?? null;
      const value = run.values[i] ?? null;
      // Cleared first: a settled proposal is held by nothing once its callback has run.
      run.fns[i] = noop;
      run.errs[i] = null;
      run.values[i] = null;
      try {
        fn(err, value);
      } catch (thrown) {
        queueMicrotask(() => {
          throw thrown;
        });
      }
    }
    run.count = 0;
  };
}

function noop(): void {}
