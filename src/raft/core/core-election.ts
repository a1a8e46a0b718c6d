import type { Message, NodeId } from '../types.js';
import { MessageType } from '../types.js';
import { type CampaignKind, CoreState } from './core-state.js';
import { campaignTransfer, newMessage } from './message.js';

/** Elections: timeouts, PreVote, votes and the leader-stickiness check (etcd raft.go). */
export abstract class ElectionCore extends CoreState {
  protected abstract becomeLeader(): void;
  protected abstract stepFollower(m: Message): void;

  protected tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre' : 'election');
    }
  }

  protected quorumActive(): boolean {
    let active = 0;
    for (const id of this.conf.voters) {
      const pr = this.prs.get(id);
      if (id === this.id || pr?.recentActive) active++;
    }
    for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
    return active > this.conf.voters.length / 2;
  }

  protected campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteTerm: number;
    let type: MessageType;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      type = MessageType.PreVote;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
      type = MessageType.Vote;
    }
    if (this.recordVote(this.id, true) === 'won') {
      this.wonElection(kind);
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    const context = kind === 'transfer' ? campaignTransfer : 0;
    for (const id of this.conf.voters) {
      if (id === this.id) continue;
      this.send(newMessage(type, this.id, id, voteTerm, { index, logTerm, context }));
    }
  }

  protected wonElection(kind: CampaignKind): void {
    if (kind === 'pre') this.campaign('election');
    else this.becomeLeader();
  }

  protected recordVote(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    let yes = 0;
    let no = 0;
    for (const voter of this.conf.voters) {
      const v = this.votes.get(voter);
      if (v === true) yes++;
      else if (v === false) no++;
    }
    const quorum = Math.floor(this.conf.voters.length / 2) + 1;
    if (yes >= quorum) return 'won';
    if (no >= quorum) return 'lost';
    return 'pending';
  }

  /** Leader stickiness: heard from a live leader within the election timeout. */
  protected inLease(): boolean {
    if (!this.cfg.checkQuorum) return false;
    if (this.state === 'leader') return true;
    const recentlyStarted = this.ticksSinceStart < this.cfg.electionTicks;
    return (this.lead !== null || recentlyStarted) && this.electionElapsed < this.cfg.electionTicks;
  }

  /** Returns false when the message is to be dropped. */
  protected stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = m.type === MessageType.Vote && m.context === campaignTransfer;
      if (!force && this.inLease()) return false;
    }
    if (m.type === MessageType.PreVote) return true;
    if (m.type === MessageType.PreVoteResp && !m.reject) return true;
    const fromLeader =
      m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  protected stepLowerTerm(m: Message): void {
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat;
    if ((this.cfg.checkQuorum || this.cfg.preVote) && fromLeader) {
      // Tell a stale leader our term so it steps down (it may be cut off from the rest).
      this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term));
    } else if (m.type === MessageType.PreVote) {
      this.send(newMessage(MessageType.PreVoteResp, this.id, m.from, this.term, { reject: true }));
    }
  }

  protected handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const respType = pre ? MessageType.PreVoteResp : MessageType.VoteResp;
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (pre && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The grant carries the candidate's term; a real vote is durable before it is sent.
      this.send(newMessage(respType, this.id, m.from, m.term));
      if (!pre) {
        this.electionElapsed = 0;
        this.setVote(m.from);
      }
    } else {
      this.send(newMessage(respType, this.id, m.from, this.term, { reject: true }));
    }
  }

  protected stepCandidate(m: Message): void {
    const respType = this.state === 'precandidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
      case MessageType.Heartbeat:
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case respType: {
        const result = this.recordVote(m.from, !m.reject);
        if (result === 'won') this.wonElection(this.state === 'precandidate' ? 'pre' : 'election');
        else if (result === 'lost') this.becomeFollower(this.term, null);
        return;
      }
      default:
        return;
    }
  }
}
