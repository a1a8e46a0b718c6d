import type { Entry, NodeId } from '../types.js';
import { EntryType } from '../types.js';
import { encodeConfChange } from './conf-change-codec.js';

/**
 * The log a brand-new group starts from (etcd's Bootstrap): for each initial member, in id
 * order, an addLearner and a promote entry, all of term 1 and committed. Every member
 * bootstrapped with the same peers writes the identical prefix, and a node that joins later
 * learns the initial membership by replicating it like any other entry.
 */
export function bootstrapEntries(peers: readonly NodeId[]): Entry[] {
  const out: Entry[] = [];
  for (const id of [...new Set(peers)].sort()) {
    for (const type of ['addLearner', 'promote'] as const) {
      const data = encodeConfChange({ type, id });
      out.push({ index: out.length + 1, term: 1, type: EntryType.ConfChange, data });
    }
  }
  return out;
}
