import { DrlError } from '../../errors.js';
import { MessageType } from '../types.js';
import { LeaderCore } from './core-leader.js';
import { newMessage } from './message.js';
import { majorityValue, quorumScratch } from './quorum.js';

/**
 * Heartbeat rounds, leader leases and ReadIndex (dissertation §6.4): each broadcast is a round
 * with its send time; a quorum's acks confirm leadership (ReadIndex) and start a lease.
 */
export abstract class ReadsCore extends LeaderCore {
  abstract hasLease(): boolean;

  protected bcastHeartbeat(): void {
    const now = this.env.nowMs();
    const round = this.rounds.start(now);
    if (this.bug('lease-without-quorum')) {
      this.rounds.leaseExpiryMs = Math.max(this.rounds.leaseExpiryMs, now + this.leaseMs());
    }
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      const commit = Math.min(pr.match, this.log.committed);
      this.send(
        newMessage(MessageType.Heartbeat, this.id, id, this.term, { commit, context: round }),
      );
    }
    this.afterRoundAck();
  }

  /**
   * How long a quorum's ack of a round protects us, from the round's send time. Followers
   * refuse votes for electionTicks ticks after hearing from us; the first of those ticks may
   * come right away, so only (electionTicks - 1) ticks are certain, shortened by clock drift.
   */
  protected leaseMs(): number {
    const ticks = this.cfg.electionTicks - 1;
    return ticks * this.cfg.tickMs * (1 - this.cfg.clockDriftBound);
  }

  protected afterCommit(): void {
    if (this.noopCommitted() && this.readsAwaitingNoop.length > 0) {
      const waiting = this.readsAwaitingNoop;
      this.readsAwaitingNoop = [];
      for (const id of waiting) this.serveRead(id);
    }
    // A leader removed from the voters steps down once that change is committed.
    if (!this.conf.voters.includes(this.id) && this.log.committed >= this.confs.lastChangeIndex()) {
      this.becomeFollower(this.term, null);
    }
  }

  /** Whether this leader may serve reads: its own no-op (an entry of its term) is committed. */
  protected noopCommitted(): boolean {
    if (this.bug('skip-leader-noop')) return true;
    return this.log.term(this.log.committed) === this.term;
  }

  protected serveRead(requestId: number): void {
    if (this.isSingleVoter() || this.hasLease()) {
      this.readStates.push({ requestId, index: this.log.committed });
      return;
    }
    try {
      this.rounds.queueRead(requestId, this.log.committed);
    } catch {
      throw new DrlError('unavailable', 'too many pending reads');
    }
  }

  /** Recomputes the round a quorum acked (the leader acks its own current round). */
  protected afterRoundAck(): void {
    const voters = this.conf.voters;
    const acked = quorumScratch(voters.length);
    for (let i = 0; i < voters.length; i++) {
      const id = voters[i]!;
      acked[i] = id === this.id ? this.rounds.current : (this.prs.get(id)?.ackedRound ?? 0);
    }
    const round = majorityValue(acked);
    if (round <= this.rounds.confirmed) return;
    const leasable = this.leadTransferee === null && !this.timeoutNowSent && this.cfg.checkQuorum;
    const leaseMs = leasable ? this.leaseMs() : 0;
    this.rounds.confirm(round, leaseMs, this.readStates);
  }
}
