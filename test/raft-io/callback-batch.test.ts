// Proposal callbacks: run after the synchronous code that settled them, in order, and one
// queued while a batch runs waits for the next microtask instead of overwriting a slot.
import t from 'tap';
import { CallbackBatch } from '../../src/raft/driver/callback-batch.js';

t.test('callbacks run later, in order, each once; re-queued ones in the next batch', async (t) => {
  const batch = new CallbackBatch<string>();
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) {
    batch.push((err, p) => seen.push(err ? `err${i}` : `${p!.index}:${p!.result}`), null, {
      index: i,
      result: 'r',
    });
  }
  batch.push(
    (err) => {
      seen.push(err!.message);
      // Queued from inside a batch: must not clobber the callbacks after it in this one.
      batch.push(() => seen.push('again'), null, null);
    },
    new Error('lost'),
    null,
  );
  batch.push(() => seen.push('last'), null, null);
  t.same(seen, [], 'nothing runs synchronously');
  await Promise.resolve();
  await Promise.resolve();
  t.same(seen, ['0:r', '1:r', '2:r', '3:r', '4:r', 'lost', 'last', 'again']);
});
