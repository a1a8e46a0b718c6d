import type { Message, NodeId } from '../types.js';
import { MessageType } from '../types.js';
import { ElectionCore } from './core-election.js';
import { newMessage } from './message.js';

/** A follower's side of replication: appends, heartbeats, snapshots, TimeoutNow. */
export abstract class FollowerCore extends ElectionCore {
  protected stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.heardFromLeader(m.from);
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send(
          newMessage(MessageType.HeartbeatResp, this.id, m.from, this.term, { context: m.context }),
        );
        return;
      case MessageType.Snap:
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        this.campaign('transfer');
        return;
      default:
        return;
    }
  }

  protected heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.lead = from;
  }

  protected handleAppend(m: Message): void {
    const l = this.log;
    if (m.index < l.committed) {
      this.send(
        newMessage(MessageType.AppResp, this.id, m.from, this.term, { index: l.committed }),
      );
      return;
    }
    if (l.matchTerm(m.index, m.logTerm)) {
      const lastNew = m.index + m.entries.length;
      const conflict = l.findConflict(m.entries);
      if (conflict !== 0) {
        const fresh = m.entries.slice(conflict - m.index - 1);
        const truncatedAt = l.append(fresh, true);
        if (truncatedAt !== 0) this.confs.truncatedFrom(truncatedAt);
        this.confs.appended(fresh);
        this.conf = this.confs.current();
      }
      l.commitTo(Math.min(m.commit, lastNew));
      this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term, { index: lastNew }));
      return;
    }
    const hint = l.findConflictByTerm(Math.min(m.index, l.lastIndex()), m.logTerm);
    this.send(
      newMessage(MessageType.AppResp, this.id, m.from, this.term, {
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  protected handleSnapshot(m: Message): void {
    const meta = m.snapshot?.meta;
    if (!meta) return;
    const l = this.log;
    if (meta.index > l.committed) {
      if (l.matchTerm(meta.index, meta.term)) {
        // We already hold that prefix: just fast-forward the commit, no install needed.
        l.commitTo(meta.index);
      } else {
        l.restore(meta);
        this.confs.reset(meta.index, meta.conf);
        this.conf = this.confs.current();
      }
    }
    // Installed, fast-forwarded or stale: either way we now hold everything up to commit.
    this.send(newMessage(MessageType.AppResp, this.id, m.from, this.term, { index: l.committed }));
  }
}
