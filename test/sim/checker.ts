/**
 * Raft's safety properties, checked incrementally after every simulator step:
 * Election Safety, Log Matching, Leader Completeness, State Machine Safety, commit and term
 * monotonicity, applied <= committed, durable votes, and linearizable reads.
 * Entries and log prefixes are compared by hash (see entry-hash.ts), so each check is O(1)
 * per new entry or per node.
 */
import type { Entry, RaftStatus } from '../../src/raft/types.js';
import { entryHash } from './entry-hash.js';
import { type DiskState, lastIndex, prefixHashAt } from './sim-disk.js';

export type Fail = (rule: string, detail: string) => never;

/** The per-node facts the checker reads after a step. */
export interface CheckedNode {
  id: string;
  up: boolean;
  incarnation: number;
  status(): RaftStatus;
  written(): DiskState;
  synced(): DiskState;
  applied(): number;
  /**
   * Between an apply-first pass and its deferred full Ready: the core's commit index may cover
   * entries it has not handed out for writing yet (a follower learns commit with the entries),
   * so the commit-durability checks wait for the full Ready.
   */
  readyDeferred?: boolean;
  /**
   * A write is in flight (async log writes): entries stepped meanwhile (appended, or replacing
   * a conflicting tail) are only in the core's memory until the next Ready is written, so the
   * checks against the written log (commit durability, the committed prefix, Leader
   * Completeness) wait until no write is in flight.
   */
  writeInFlight?: boolean;
}

interface NodeTrack {
  incarnation: number;
  commit: number;
  term: number;
  syncedTerm: number;
  syncedVote: string | null;
  syncedCommit: number;
}

export class Checker {
  private readonly leaderOfTerm = new Map<number, string>();
  /** (index, term) -> prefix hash: the same (index, term) must always carry the same prefix. */
  private readonly prefixOf = new Map<number, number>();
  /** Hash of the entry applied at each index by whoever applied it first. */
  private readonly appliedHash: number[] = [];
  /** State digest after applying each index, by whoever applied it first. */
  private readonly appliedDigest: number[] = [];
  /** Prefix hash through each committed index. */
  private readonly committedPrefix: number[] = [];
  private maxCommit = 0;
  /** Highest index declared committed by a node in each term. */
  private readonly commitByTerm = new Map<number, number>();
  private readonly tracks = new Map<string, NodeTrack>();
  leaderChanges = 0;

  constructor(private readonly fail: Fail) {}

  /** Log Matching: entries just written at `node` against every entry ever seen. */
  onWritten(node: string, disk: DiskState, entries: readonly Entry[]): void {
    for (const e of entries) {
      const h = prefixHashAt(disk, e.index);
      if (h === undefined) continue;
      const key = e.index * 1e6 + e.term;
      const seen = this.prefixOf.get(key);
      if (seen === undefined) this.prefixOf.set(key, h);
      else if (seen !== h) {
        this.fail(
          'Log Matching',
          `${node} holds (index ${e.index}, term ${e.term}) after a prefix that differs from another log's`,
        );
      }
    }
  }

  /** Durable term never decreases; a durable vote never changes within a term. */
  onSynced(node: string, disk: DiskState): void {
    const t = this.track(node, 0);
    const hs = disk.hardState;
    if (hs.term < t.syncedTerm) {
      this.fail('Durable term', `${node} synced term ${hs.term} below ${t.syncedTerm}`);
    }
    if (hs.term === t.syncedTerm && t.syncedVote !== null && hs.vote !== t.syncedVote) {
      this.fail(
        'One vote per term',
        `${node} voted ${t.syncedVote} then ${hs.vote} in term ${hs.term}`,
      );
    }
    if (hs.commit < t.syncedCommit) {
      this.fail('Durable commit', `${node} synced commit ${hs.commit} below ${t.syncedCommit}`);
    }
    t.syncedTerm = hs.term;
    t.syncedVote = hs.vote;
    t.syncedCommit = hs.commit;
  }

  /**
   * State Machine Safety: no two nodes apply different entries at one index, and (digest of
   * all applied so far) no node reaches an index in a different state, e.g. after restoring.
   */
  onApply(node: string, entry: Entry, digest: number): void {
    const h = entryHash(entry);
    const seen = this.appliedHash[entry.index];
    if (seen === undefined) this.appliedHash[entry.index] = h;
    else if (seen !== h) {
      this.fail(
        'State Machine Safety',
        `${node} applied a different entry at index ${entry.index} (term ${entry.term})`,
      );
    }
    const seenDigest = this.appliedDigest[entry.index];
    if (seenDigest === undefined) this.appliedDigest[entry.index] = digest;
    else if (seenDigest !== digest) {
      this.fail(
        'State Machine Safety',
        `${node} reached index ${entry.index} in a different state`,
      );
    }
  }

  /** A snapshot installed at `node` must hold the state every applier had at its index. */
  onInstall(node: string, index: number, digest: number): void {
    const seen = this.appliedDigest[index];
    if (seen === undefined) this.appliedDigest[index] = digest;
    else if (seen !== digest) {
      this.fail(
        'State Machine Safety',
        `${node} installed a snapshot at ${index} with a different state`,
      );
    }
  }

  committedPrefixAt(index: number): number | undefined {
    return this.committedPrefix[index];
  }

  /** Checks on a node whose core ran in this step (untouched nodes cannot have changed). */
  afterStep(n: CheckedNode): void {
    if (!n.up) return;
    const s = n.status();
    this.checkNode(n, s);
    if (s.role === 'leader') this.checkLeader(n, s);
  }

  private checkNode(n: CheckedNode, s: RaftStatus): void {
    const t = this.track(n.id, n.incarnation);
    if (t.incarnation !== n.incarnation) {
      t.incarnation = n.incarnation;
      t.commit = 0;
      t.term = 0;
    }
    if (s.term < t.term) this.fail('Term monotonic', `${n.id} term ${s.term} after ${t.term}`);
    if (s.commit < t.commit)
      this.fail('Commit monotonic', `${n.id} commit ${s.commit} after ${t.commit}`);
    const applied = n.applied();
    if (applied > s.commit)
      this.fail('applied <= committed', `${n.id} applied ${applied} > commit ${s.commit}`);
    t.term = s.term;
    if (n.readyDeferred || n.writeInFlight) return;
    if (s.commit > t.commit) this.onCommitAdvance(n, s);
    t.commit = s.commit;
  }

  private onCommitAdvance(n: CheckedNode, s: RaftStatus): void {
    const disk = n.written();
    if (s.commit > lastIndex(disk)) {
      this.fail(
        'Commit durable',
        `${n.id} commit ${s.commit} beyond its written log ${lastIndex(disk)}`,
      );
    }
    // Record the committed prefix from this node where it is new, compare where it is known.
    for (let i = this.maxCommit + 1; i <= s.commit; i++) {
      const h = prefixHashAt(disk, i);
      if (h === undefined) break;
      this.committedPrefix[i] = h;
      this.maxCommit = i;
    }
    const mine = prefixHashAt(disk, s.commit);
    const known = this.committedPrefix[s.commit];
    if (mine !== undefined && known !== undefined && mine !== known) {
      this.fail(
        'Committed prefix',
        `${n.id} committed index ${s.commit} with a different log prefix`,
      );
    }
    const prev = this.commitByTerm.get(s.term) ?? 0;
    if (s.commit > prev) this.commitByTerm.set(s.term, s.commit);
  }

  private checkLeader(n: CheckedNode, s: RaftStatus): void {
    const prior = this.leaderOfTerm.get(s.term);
    if (prior === undefined) {
      this.leaderOfTerm.set(s.term, n.id);
      this.leaderChanges++;
    } else if (prior !== n.id) {
      this.fail('Election Safety', `${prior} and ${n.id} are both leader of term ${s.term}`);
    }
    // Leader Completeness: everything committed in an earlier term is in this leader's log.
    if (n.writeInFlight) return;
    let need = 0;
    for (const [term, index] of this.commitByTerm) if (term < s.term && index > need) need = index;
    if (need === 0) return;
    const disk = n.written();
    const mine = prefixHashAt(disk, need);
    const known = this.committedPrefix[need];
    if (lastIndex(disk) < need || (mine !== undefined && known !== undefined && mine !== known)) {
      this.fail(
        'Leader Completeness',
        `${n.id} leads term ${s.term} without entry ${need} committed in an earlier term`,
      );
    }
  }

  private track(id: string, incarnation: number): NodeTrack {
    let t = this.tracks.get(id);
    if (t === undefined) {
      t = { incarnation, commit: 0, term: 0, syncedTerm: 0, syncedVote: null, syncedCommit: 0 };
      this.tracks.set(id, t);
    }
    return t;
  }
}
