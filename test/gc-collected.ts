import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
// A fresh context sees the `gc` global the flag adds; the test process itself started without it.
const gc = runInNewContext('gc') as () => void;

/**
 * How many of these objects are garbage collected once nothing but the weak references holds
 * them (a full GC, twice: a first pass may only clear weak references).
 */
export async function collectedCount(refs: WeakRef<object>[]): Promise<number> {
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return refs.filter((r) => r.deref() === undefined).length;
}
