import { Worker } from 'node:worker_threads';

/**
 * Precise 1 ms ticks for the fixed-rate generator. A timer on the generator's own event loop
 * fires 0-2 ms late even when the loop is idle (libuv rounds its clock and timeouts to whole
 * ms), which charged the group for the generator's resolution. This worker thread sleeps on a
 * futex to each tick (sub-ms precision) and posts it; the message wakes the loop the way a
 * client's request on a socket would, so a busy loop still delays the tick (real queueing)
 * while an idle one takes it at once.
 */
const PACER_SOURCE = `
const { parentPort } = require('node:worker_threads');
// The highest priority for this thread alone (Linux applies setpriority(0) to the calling
// thread): it stands for clients on other machines, whose requests do not wait for this
// machine's run queue. Needs root (or CAP_SYS_NICE); without it the pacer runs at the default.
let raised = false;
try { require('node:os').setPriority(0, -20); raised = true; } catch {}
const cell = new Int32Array(new SharedArrayBuffer(4));
parentPort.postMessage({ raised });
parentPort.once('message', ({ startNs, ticks }) => {
  const start = BigInt(startNs);
  for (let k = 1; k <= ticks; k++) {
    const due = start + BigInt(k) * 1000000n;
    for (;;) {
      const left = Number(due - process.hrtime.bigint()) / 1e6;
      if (left <= 0) break;
      Atomics.wait(cell, 0, 0, left);
    }
    // How late this thread itself woke (a CPU it waited for), in microseconds.
    parentPort.postMessage([k, Number(process.hrtime.bigint() - due) / 1000]);
  }
});
`;

export interface Pacer {
  /** Whether the pacer thread runs at the highest priority (nice -20). */
  raised: boolean;
  /** Starts ticking: onTick(k, lateUs) for k = 1..ticks at startNs + k ms (hrtime clock). */
  start(startNs: bigint, ticks: number, onTick: (k: number, lateUs: number) => void): void;
  stop(): void;
}

/** A pacer thread, running (its start-up, ~20 ms, is over) when the promise resolves. */
export async function createPacer(): Promise<Pacer> {
  const worker = new Worker(PACER_SOURCE, { eval: true });
  worker.on('error', (err) => {
    throw err;
  });
  const { raised } = await new Promise<{ raised: boolean }>((resolve) =>
    worker.once('message', resolve),
  );
  return {
    raised,
    start(startNs, ticks, onTick) {
      worker.on('message', ([k, lateUs]: [number, number]) => onTick(k, lateUs));
      worker.postMessage({ startNs: startNs.toString(), ticks });
    },
    stop() {
      void worker.terminate();
    },
  };
}
