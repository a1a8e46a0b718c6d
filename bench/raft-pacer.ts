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
const cell = new Int32Array(new SharedArrayBuffer(4));
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
  await new Promise<void>((resolve) => worker.once('online', () => resolve()));
  return {
    start(startNs, ticks, onTick) {
      worker.on('message', ([k, lateUs]: [number, number]) => onTick(k, lateUs));
      worker.postMessage({ startNs: startNs.toString(), ticks });
    },
    stop() {
      void worker.terminate();
    },
  };
}
