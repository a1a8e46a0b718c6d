/**
 * A node's simulated disk: what the process has written (the page cache) and what an fsync
 * made durable. A crash keeps only the synced part, so a driver that sends messages before
 * syncing what they promise is caught by the checker.
 */
import type { Entry, HardState, SnapshotMeta } from '../../src/raft/types.js';
import { chainHash } from './entry-hash.js';
import type { MachineImage } from './state-machine.js';

export interface DiskState {
  hardState: HardState;
  snapshot: SnapshotMeta | null;
  /** Prefix hash of the log up to the snapshot (0 without one). */
  baseHash: number;
  /** The state machine image the snapshot holds (null without one). */
  image: MachineImage | null;
  /** entries[k] has index firstIndex + k. */
  entries: Entry[];
  /** hashes[k] is the prefix hash through entries[k] (Log Matching bookkeeping). */
  hashes: number[];
}

type DiskOp =
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'snapshot'; snapshot: SnapshotMeta; baseHash: number; image: MachineImage };

export function emptyDisk(): DiskState {
  return {
    hardState: { term: 0, vote: null, commit: 0 },
    snapshot: null,
    baseHash: 0,
    image: null,
    entries: [],
    hashes: [],
  };
}

export function firstIndex(disk: DiskState): number {
  return (disk.snapshot?.index ?? 0) + 1;
}

export function lastIndex(disk: DiskState): number {
  return firstIndex(disk) + disk.entries.length - 1;
}

/** Prefix hash through `index`, or undefined when the index is not held. */
export function prefixHashAt(disk: DiskState, index: number): number | undefined {
  const first = firstIndex(disk);
  if (index === first - 1) return disk.baseHash;
  return disk.hashes[index - first];
}

export function termAt(disk: DiskState, index: number): number | undefined {
  const first = firstIndex(disk);
  if (index === first - 1) return disk.snapshot?.term ?? 0;
  return disk.entries[index - first]?.term;
}

export class SimDisk {
  /** What reads see now (written, perhaps not yet synced). */
  written: DiskState = emptyDisk();
  /** What survives a crash. */
  synced: DiskState = emptyDisk();
  private pending: DiskOp[] = [];
  syncs = 0;

  writeEntries(entries: Entry[]): void {
    if (entries.length === 0) return;
    const op: DiskOp = { kind: 'entries', entries };
    applyOp(this.written, op);
    this.pending.push(op);
  }

  writeHardState(hardState: HardState): void {
    const op: DiskOp = { kind: 'hardState', hardState: { ...hardState } };
    applyOp(this.written, op);
    this.pending.push(op);
  }

  writeSnapshot(snapshot: SnapshotMeta, baseHash: number, image: MachineImage): void {
    const op: DiskOp = { kind: 'snapshot', snapshot, baseHash, image };
    applyOp(this.written, op);
    this.pending.push(op);
  }

  /** fsync: everything written so far becomes durable. */
  sync(): void {
    for (const op of this.pending) applyOp(this.synced, op);
    this.pending = [];
    this.syncs++;
  }

  /** Power cut / SIGKILL before fsync: unsynced writes are gone. */
  crash(): number {
    const lost = this.pending.length;
    this.pending = [];
    this.written = cloneDisk(this.synced);
    return lost;
  }
}

function cloneDisk(d: DiskState): DiskState {
  return {
    hardState: { ...d.hardState },
    snapshot: d.snapshot,
    baseHash: d.baseHash,
    image: d.image,
    entries: d.entries.slice(),
    hashes: d.hashes.slice(),
  };
}

function applyOp(d: DiskState, op: DiskOp): void {
  switch (op.kind) {
    case 'hardState':
      d.hardState = op.hardState;
      return;
    case 'entries':
      appendEntries(d, op.entries);
      return;
    case 'snapshot':
      installSnapshot(d, op.snapshot, op.baseHash);
      d.image = op.image;
      return;
  }
}

function appendEntries(d: DiskState, entries: Entry[]): void {
  const first = firstIndex(d);
  const start = (entries[0] as Entry).index;
  if (start < first) throw new Error(`disk: append at ${start} below first index ${first}`);
  if (start > lastIndex(d) + 1) {
    throw new Error(`disk: append at ${start} leaves a gap after ${lastIndex(d)}`);
  }
  // An append overwrites everything from its first index on (a conflicting suffix).
  d.entries.length = start - first;
  d.hashes.length = start - first;
  let prev = prefixHashAt(d, start - 1) as number;
  for (const e of entries) {
    if (e.index !== first + d.entries.length) throw new Error('disk: entries not contiguous');
    prev = chainHash(prev, e);
    d.entries.push(e);
    d.hashes.push(prev);
  }
}

/** Like the core's restore: the log restarts right after the snapshot (as MemoryLogView does). */
function installSnapshot(d: DiskState, snap: SnapshotMeta, baseHash: number): void {
  d.entries = [];
  d.hashes = [];
  d.snapshot = snap;
  d.baseHash = baseHash;
}
