/**
 * A tiny deterministic network for driving several cores in tests: each node persists its
 * Ready into a MemoryLogView, then its messages are queued, then committed entries are
 * recorded, then advance — exactly the driver's order. Delivery is FIFO; filters drop.
 */
import { type Core, createRaftCore, MemoryLogView } from '../../../src/raft/core/index.js';
import type {
  Entry,
  Message,
  NodeId,
  RaftConfig,
  RaftCore,
  ReadState,
  Ready,
  SnapshotSend,
} from '../../../src/raft/types.js';

export interface TestNode {
  id: NodeId;
  core: RaftCore;
  disk: MemoryLogView;
  applied: Entry[];
  readStates: ReadState[];
  snapshotSends: SnapshotSend[];
  /** Every Ready this node produced, for order checks. */
  readies: Ready[];
}

export interface ClockEnv {
  nowMs: number;
  seed: number;
}

export function baseConfig(id: NodeId, peers: NodeId[], extra?: Partial<RaftConfig>): RaftConfig {
  return {
    id,
    peers,
    electionTicks: 10,
    heartbeatTicks: 1,
    tickMs: 100,
    clockDriftBound: 0.01,
    maxInflightMsgs: 256,
    maxInflightBytes: 1 << 30,
    maxEntriesBytesPerMsg: 1 << 20,
    preVote: false,
    checkQuorum: false,
    testBugs: new Set(),
    ...extra,
  };
}

/** A seeded generator (mulberry32) so election timeouts are reproducible. */
export function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) % n;
  };
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  readonly clock = { nowMs: 0 };
  private queue: Message[] = [];
  /** Return true to drop the message. */
  drop: (m: Message) => boolean = () => false;
  delivered: Message[] = [];

  constructor(
    ids: NodeId[],
    extra?: Partial<RaftConfig> | ((id: NodeId) => Partial<RaftConfig>),
    seed = 7,
  ) {
    for (const id of ids) {
      const cfg = baseConfig(id, ids, typeof extra === 'function' ? extra(id) : extra);
      this.add(cfg, new MemoryLogView(), seed);
      seed += 101;
    }
  }

  add(cfg: RaftConfig, disk: MemoryLogView, seed: number): TestNode {
    const env = { randomInt: lcg(seed), nowMs: () => this.clock.nowMs };
    const node: TestNode = {
      id: cfg.id,
      core: createRaftCore(cfg, disk, env),
      disk,
      applied: [],
      readStates: [],
      snapshotSends: [],
      readies: [],
    };
    this.nodes.set(cfg.id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: NodeId): Core {
    return this.node(id).core as Core;
  }

  /** Handles every pending Ready of every node; queues their messages. */
  processReadies(): number {
    let handled = 0;
    for (const n of this.nodes.values()) {
      for (let i = 0; i < 100 && n.core.hasReady(); i++) {
        const rd = n.core.ready();
        n.readies.push(rd);
        n.disk.persist(rd);
        for (const m of rd.messages) this.queue.push(m);
        n.applied.push(...rd.committedEntries);
        n.readStates.push(...rd.readStates);
        n.snapshotSends.push(...rd.snapshotSends);
        n.core.advance(rd);
        handled++;
      }
    }
    return handled;
  }

  /** Takes the queued messages (after processing readies) without delivering them. */
  takeMessages(): Message[] {
    this.processReadies();
    const out = this.queue;
    this.queue = [];
    return out;
  }

  deliver(m: Message): void {
    if (this.drop(m)) return;
    const to = this.nodes.get(m.to);
    if (!to) return;
    this.delivered.push(m);
    to.core.step(m);
  }

  /** Delivers until no messages remain (bounded). */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      const msgs = this.takeMessages();
      if (msgs.length === 0) return;
      for (const m of msgs) this.deliver(m);
    }
    throw new Error('network did not stabilize');
  }

  tickAll(ticks = 1): void {
    for (let i = 0; i < ticks; i++) {
      for (const n of this.nodes.values()) n.core.tick();
    }
  }

  /** Ticks `id` until it campaigns, then stabilizes. */
  elect(id: NodeId): void {
    const core = this.node(id).core;
    for (let i = 0; i < 100 && core.status().role !== 'leader'; i++) {
      core.tick();
      this.stabilize();
    }
    if (core.status().role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  leader(): NodeId | null {
    for (const n of this.nodes.values()) if (n.core.status().role === 'leader') return n.id;
    return null;
  }

  /** Cuts `id` off in both directions (or heals when `cut` is false). */
  isolate(id: NodeId): void {
    const prev = this.drop;
    this.drop = (m) => m.from === id || m.to === id || prev(m);
  }

  heal(): void {
    this.drop = () => false;
  }
}

export function data(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(e: Entry): string {
  return new TextDecoder().decode(e.data);
}

export function termsToEntries(terms: number[]): Entry[] {
  return terms.map((term, i) => ({ index: i + 1, term, type: 0, data: new Uint8Array(0) }));
}

/** A disk holding a log with the given entry terms (index 1..n) and hard state term. */
export function diskWithLog(terms: number[], term: number, commit = 0): MemoryLogView {
  return new MemoryLogView({
    hardState: { term, vote: null, commit },
    entries: termsToEntries(terms),
  });
}

/** Length of the bootstrap prefix of a group of `members` (addLearner + promote each). */
export function boot(members: number): number {
  return 2 * members;
}
