/**
 * A node's share of the snapshot stagger period, in [0, 1): its rank among the initial members
 * over their count (LimiterStateMachine starts a due periodic snapshot at the next index whose
 * remainder by the period is this share of it).
 *
 * Why: the members of a group apply the same entries, so with one policy they would all reach a
 * snapshot bound at the same index. A snapshot's capture and its commit hold a node's loop for a
 * few ms each; when a quorum holds at once, no commit can happen meanwhile and the requests
 * queue behind it. A traced half-rate bench (2026-12-05 13:03 UTC) had its whole slowest 1 % in
 * one such episode: all three nodes captured within 9 ms, commits waited 28 ms, and the backlog
 * took 200 ms to drain. Staggered, the members' captures start a third of the period apart
 * (three members), and the two not capturing still make a quorum.
 */
export function snapshotPhase(id: string, initialMemberIds: readonly string[]): number {
  const ids = [...new Set(initialMemberIds)].sort();
  const rank = ids.indexOf(id);
  if (rank >= 0) return rank / ids.length;
  // A node added later (--join) is not in the initial list: a share from its id's hash.
  return hash32(id) / 2 ** 32;
}

/**
 * 32-bit FNV-1a of the UTF-16 code units, then MurmurHash3's finalizer: FNV alone puts ids
 * that differ in their last character (n4, n5, n6) within 1 % of each other.
 */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
