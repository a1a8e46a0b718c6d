/**
 * The simulated network: a directed link matrix (cut links model symmetric, one-way and
 * isolating partitions) plus per-message loss, duplication and delay drawn from the seed.
 * Random delays reorder messages; a rare long delay delivers stale messages from old terms.
 */
import type { Message } from '../../src/raft/types.js';
import type { Prng } from './prng.js';

export interface NetworkProfile {
  lossRate: number;
  duplicateRate: number;
  baseDelayMs: number;
  jitterMs: number;
  longDelayRate: number;
  longDelayMaxMs: number;
}

export function randomNetworkProfile(rng: Prng): NetworkProfile {
  return {
    lossRate: rng.float() * 0.12,
    duplicateRate: rng.float() * 0.05,
    baseDelayMs: 0.5 + rng.float() * 3,
    jitterMs: rng.float() * 12,
    longDelayRate: 0.002 + rng.float() * 0.01,
    longDelayMaxMs: 100 + rng.int(300),
  };
}

export class Network {
  /** cuts[from * n + to]: how many active faults cut from -> to (overlapping faults stack). */
  private readonly cuts: Uint16Array;

  constructor(
    private readonly n: number,
    private readonly rng: Prng,
    readonly profile: NetworkProfile,
  ) {
    this.cuts = new Uint16Array(n * n);
  }

  isCut(from: number, to: number): boolean {
    return (this.cuts[from * this.n + to] as number) > 0;
  }

  cutLink(from: number, to: number): void {
    const i = from * this.n + to;
    if (from !== to) this.cuts[i] = (this.cuts[i] ?? 0) + 1;
  }

  healLink(from: number, to: number): void {
    const i = from * this.n + to;
    const count = this.cuts[i] ?? 0;
    if (from !== to && count > 0) this.cuts[i] = count - 1;
  }

  healAll(): void {
    this.cuts.fill(0);
  }

  /** Delivery delays (ms) for one send: empty when lost, two when duplicated. */
  delaysFor(): number[] {
    const p = this.profile;
    if (this.rng.chance(p.lossRate)) return [];
    const out = [this.oneDelay()];
    if (this.rng.chance(p.duplicateRate)) out.push(this.oneDelay());
    return out;
  }

  private oneDelay(): number {
    const p = this.profile;
    if (this.rng.chance(p.longDelayRate))
      return p.baseDelayMs + this.rng.float() * p.longDelayMaxMs;
    return p.baseDelayMs + this.rng.float() * p.jitterMs;
  }
}

/** A copy the receiver may keep or mutate without touching the sender's or a duplicate's. */
export function copyMessage(m: Message): Message {
  return { ...m, entries: m.entries.slice() };
}
