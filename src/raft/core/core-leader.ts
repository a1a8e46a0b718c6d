import { DrlError } from '../../errors.js';
import type { Entry, Message, NodeId } from '../types.js';
import { EntryType, MessageType } from '../types.js';
import { FollowerCore } from './core-follower.js';
import { entrySize } from './entry-size.js';
import { newMessage } from './message.js';
import type { Progress } from './progress.js';
import { majorityValue, quorumScratch } from './quorum.js';

const emptyData = new Uint8Array(0);
const defaultMaxUncommitted = 65_536;

/**
 * The leader's side of replication: becoming leader (no-op), proposals, batched and pipelined
 * Apps under flow control, acks, fast backtracking, commit by counting current-term entries.
 */
export abstract class LeaderCore extends FollowerCore {
  protected abstract bcastHeartbeat(): void;
  protected abstract afterRoundAck(): void;
  protected abstract afterCommit(): void;

  protected becomeLeader(): void {
    this.reset(this.term);
    this.state = 'leader';
    this.lead = this.id;
    const last = this.log.lastIndex();
    for (const id of this.members()) this.addProgress(id, last + 1);
    const self = this.prs.get(this.id);
    if (self) {
      self.maybeUpdate(this.log.stableIndex);
      self.becomeReplicate();
    }
    // Conservative: any uncommitted conf change in the log counts as pending.
    this.pendingConfIndex = last;
    if (!this.bug('skip-leader-noop')) this.appendEntry(EntryType.Normal, emptyData);
    else this.maybeCommitAndBroadcast();
  }

  protected checkCanPropose(): void {
    if (this.state !== 'leader') throw this.notLeader();
    if (this.leadTransferee !== null) {
      throw new DrlError('not_leader', `leadership transfer to ${this.leadTransferee} in progress`);
    }
    const max = this.cfg.maxUncommittedEntries ?? defaultMaxUncommitted;
    if (this.log.lastIndex() - this.log.committed >= max) {
      throw new DrlError('unavailable', 'too many uncommitted entries');
    }
  }

  protected appendEntry(type: EntryType, data: Uint8Array): number {
    const index = this.log.lastIndex() + 1;
    const entry: Entry = { index, term: this.term, type, data };
    this.log.append([entry], false);
    if (type === EntryType.ConfChange && this.confs.appended([entry])) this.confChanged();
    this.appendsRequested = true;
    return index;
  }

  /** The configuration changed (on append): track new members, forget removed ones. */
  protected confChanged(): void {
    this.conf = this.confs.current();
    if (this.state !== 'leader') return;
    const members = new Set(this.members());
    for (const id of [...this.prs.keys()]) if (!members.has(id)) this.prs.delete(id);
    for (const id of members) {
      const pr = this.prs.get(id);
      const learner = this.conf.learners.includes(id);
      if (!pr || pr.isLearner !== learner) {
        this.addProgress(id, this.log.lastIndex() + 1);
        const fresh = this.prs.get(id);
        if (fresh && pr) fresh.maybeUpdate(pr.match);
      }
    }
    if (!this.conf.voters.includes(this.id)) return;
    const self = this.prs.get(this.id);
    self?.maybeUpdate(this.log.stableIndex);
  }

  protected flushLeaderSends(): void {
    if (this.state !== 'leader') return;
    if (this.appendsRequested || this.commitBroadcastRequested) {
      const commit = this.commitBroadcastRequested && this.cfg.commitBroadcast !== 'piggyback';
      this.appendsRequested = false;
      this.commitBroadcastRequested = false;
      for (const [id, pr] of this.prs) {
        if (id === this.id) continue;
        const sent = this.sendAppendsWhileOpen(id);
        if (commit && sent === 0 && pr.sentCommit < this.log.committed) this.sendAppend(id, true);
      }
    }
    if (this.rounds.roundRequested) this.bcastHeartbeat();
  }

  /** Sends Apps to `to` until flow control pauses it or nothing is left; returns how many. */
  protected sendAppendsWhileOpen(to: NodeId): number {
    let sent = 0;
    while (sent < this.cfg.maxInflightMsgs && this.sendAppend(to, false)) sent++;
    return sent;
  }

  /** Sends one App to `to` if flow control allows; true if one was sent. */
  protected sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const l = this.log;
    if (pr.next > l.lastIndex() + 1) pr.next = l.lastIndex() + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = l.term(prevIndex);
    if (prevTerm === undefined) {
      this.sendSnapshot(to, pr);
      return false;
    }
    const entries =
      pr.state === 'replicate' && pr.inflights.full()
        ? []
        : l.slice(pr.next, l.lastIndex() + 1, this.cfg.maxEntriesBytesPerMsg);
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    this.send(
      newMessage(MessageType.App, this.id, to, this.term, {
        index: prevIndex,
        logTerm: prevTerm,
        entries,
        commit: l.committed,
      }),
    );
    pr.sentEntries(entries.length, prevIndex + entries.length, bytes);
    pr.sentCommit = Math.max(pr.sentCommit, l.committed);
    return true;
  }

  protected sendSnapshot(to: NodeId, pr: Progress): void {
    const meta = this.log.snapshot;
    if (!meta) throw new Error('raft: log compacted without a snapshot');
    pr.becomeSnapshot(meta.index);
    this.snapshotSends.push({ to, meta });
  }

  protected sendTimeoutNow(to: NodeId): void {
    this.timeoutNowSent = true;
    this.rounds.leaseExpiryMs = 0;
    this.send(newMessage(MessageType.TimeoutNow, this.id, to, this.term));
  }

  protected stepLeader(m: Message): void {
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.AppResp:
        pr.recentActive = true;
        if (m.reject) this.handleAppendReject(m, pr);
        else this.handleAppendAck(m, pr);
        return;
      case MessageType.HeartbeatResp:
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        if (m.context > pr.ackedRound) pr.ackedRound = m.context;
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
        this.afterRoundAck();
        return;
      default:
        return;
    }
  }

  protected handleAppendReject(m: Message, pr: Progress): void {
    let next = m.rejectHint;
    if (m.logTerm > 0) next = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, next)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      this.sendAppend(m.from, true);
    }
  }

  protected handleAppendAck(m: Message, pr: Progress): void {
    // An ack past our log cannot come from a correct follower of this term: ignore it.
    if (m.index > this.log.lastIndex()) return;
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
      pr.msgAppFlowPaused = pr.inflights.full();
    }
    if (!this.maybeCommitAndBroadcast() && wasPaused) this.sendAppend(m.from, false);
    this.sendAppendsWhileOpen(m.from);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  protected maybeCommitAndBroadcast(): boolean {
    if (!this.maybeCommit()) return false;
    if (this.state === 'leader') this.commitBroadcastRequested = true;
    return true;
  }

  /** Commits the quorum's match index, but by counting only an entry of the current term. */
  protected maybeCommit(): boolean {
    // A leader may send its entries before its own fsync (thesis 10.2.1) only because it counts
    // itself in the quorum no further than its durable log.
    const selfMatch = this.prs.get(this.id)?.match ?? 0;
    if (selfMatch > this.log.stableIndex) {
      throw new Error(
        `raft invariant: leader counts itself at ${selfMatch} beyond its durable ${this.log.stableIndex}`,
      );
    }
    const voters = this.conf.voters;
    const matches = quorumScratch(voters.length);
    for (let i = 0; i < voters.length; i++) matches[i] = this.prs.get(voters[i]!)?.match ?? 0;
    const index = majorityValue(matches);
    if (index <= this.log.committed) return false;
    const oldTermAllowed = this.bug('commit-old-term-by-count');
    if (this.log.term(index) !== this.term && !oldTermAllowed) return false;
    this.log.commitTo(index);
    this.afterCommit();
    return true;
  }
}
