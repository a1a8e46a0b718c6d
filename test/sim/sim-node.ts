/**
 * One simulated node: its core, disk, clock and state machine, and its lifecycle
 * (start from disk, crash, restart). The driver loop that processes Ready is in sim-driver.ts.
 */
import type {
  Entry,
  HardState,
  RaftConfig,
  RaftCore,
  RaftEnv,
  RaftStatus,
  Ready,
  Role,
} from '../../src/raft/types.js';
import type { CheckedNode } from './checker.js';
import { createCoreFromDisk } from './core-adapter.js';
import type { Prng } from './prng.js';
import type { SimClock } from './sim-clock.js';
import type { DiskState } from './sim-disk.js';
import { SimDisk } from './sim-disk.js';
import { AppendListMachine, type MachineImage } from './state-machine.js';

export interface PendingWrite {
  writeId: number;
  key: number;
}

/** A Ready whose write is posted and not synced yet (asyncWrites; see sim-driver.ts). */
export interface WriteInFlight {
  rd: Ready;
  early: boolean;
  image: MachineImage | null;
  /** Its committed entries that were not durable when it was taken: applied after the fsync. */
  later: readonly Entry[];
}

export class SimNode implements CheckedNode {
  up = false;
  incarnation = 0;
  pausedUntilMs = 0;
  /** Role as the last Ready's softState said (what a driver knows without asking the core). */
  role: Role = 'follower';
  /** Mirror src/raft/driver's early send of leader App/Heartbeat before its own fsync. */
  leaderSendsBeforePersist = false;
  /** Mirror src/raft/driver's applyDurableFirst (see sim-driver.ts). */
  applyDurableFirst = false;
  /** An apply-first pass ran and its full Ready waits for a later event. */
  readyDeferred = false;
  /** Mirror src/raft/driver's asyncLogWrites (see sim-driver.ts). */
  asyncWrites = false;
  writing: WriteInFlight | null = null;
  /** A commit-only hard state not written yet (it goes to disk with the next write). */
  unwrittenHardState: HardState | null = null;
  /** The core ran during the current step (so the checker looks at this node). */
  touched = false;
  /** A fault armed by the schedule: crash during the next persist, before its fsync. */
  crashBeforeSync = false;
  core: RaftCore | null = null;
  readonly disk = new SimDisk();
  sm: AppendListMachine;
  /**
   * Whether the state machine is durable (like the SQLite one: the core restarts with
   * config.applied) or rebuilt by replaying the log; and its last durable image.
   */
  durableMachine = false;
  machineSyncEvery = 1;
  private machineImage: MachineImage | null = null;
  /** Take a state machine snapshot (core.snapshotTaken) every this many applies; 0 = never. */
  snapshotEvery = 0;
  private lastSnapshotIndex = 0;
  /** The image behind the core's latest snapshot: what this node streams to lagging peers. */
  latestSnapshot: MachineImage | null = null;
  /** A snapshot received from the leader, installed if the next Ready carries it. */
  stagedSnapshot: MachineImage | null = null;
  /** Proposals this incarnation made, by log index, awaiting apply (the client's ack). */
  readonly pendingWrites = new Map<number, PendingWrite>();
  private readonly env: RaftEnv;

  constructor(
    readonly id: string,
    readonly index: number,
    private readonly config: RaftConfig,
    readonly clock: SimClock,
    rng: Prng,
    private readonly keys: number,
    now: () => number,
  ) {
    this.sm = new AppendListMachine(keys);
    let last = Number.NEGATIVE_INFINITY;
    this.env = {
      randomInt: (n) => rng.int(n),
      nowMs: () => {
        const t = clock.localMs(now());
        if (t < last) throw new Error(`${id}: monotonic clock went back`);
        last = t;
        return t;
      },
    };
  }

  /** Boot (or reboot) from whatever the disk has synced; the state machine replays the log. */
  start(): void {
    this.incarnation++;
    this.up = true;
    this.role = 'follower';
    this.crashBeforeSync = false;
    this.unwrittenHardState = null;
    this.readyDeferred = false;
    this.writing = null;
    this.pendingWrites.clear();
    // Recover the state machine from its durable image or the snapshot, whichever is newer.
    const fromDisk = this.disk.synced.image;
    let image = this.durableMachine ? this.machineImage : null;
    if (fromDisk !== null && (image === null || fromDisk.applied > image.applied)) image = fromDisk;
    this.sm = new AppendListMachine(this.keys, image ?? undefined);
    this.latestSnapshot = fromDisk;
    this.lastSnapshotIndex = fromDisk?.applied ?? 0;
    this.stagedSnapshot = null;
    const config = image === null ? this.config : { ...this.config, applied: image.applied };
    this.core = createCoreFromDisk(config, this.disk.synced, this.env);
  }

  /** Install a snapshot received from the leader into the state machine. */
  installMachine(image: MachineImage): void {
    this.sm = new AppendListMachine(this.keys, image);
    if (this.durableMachine) this.machineImage = image;
    this.latestSnapshot = image;
    this.lastSnapshotIndex = image.applied;
  }

  /** Periodically tell the core the state machine took a snapshot; true if it did. */
  maybeSnapshot(): boolean {
    if (this.snapshotEvery === 0 || this.sm.applied - this.lastSnapshotIndex < this.snapshotEvery) {
      return false;
    }
    this.raft.snapshotTaken(this.sm.applied);
    this.latestSnapshot = this.sm.image();
    this.lastSnapshotIndex = this.sm.applied;
    return true;
  }

  /** After an apply: a durable state machine commits its transaction every few entries. */
  afterApply(): void {
    if (this.durableMachine && this.sm.applied % this.machineSyncEvery === 0) {
      this.machineImage = this.sm.image();
    }
  }

  /** Process death: memory is gone, unsynced writes are gone. Returns writes lost. */
  crash(): number {
    this.up = false;
    this.core = null;
    this.writing = null;
    this.pendingWrites.clear();
    this.stagedSnapshot = null;
    return this.disk.crash();
  }

  get raft(): RaftCore {
    if (this.core === null) throw new Error(`${this.id} is down`);
    return this.core;
  }

  isPaused(realMs: number): boolean {
    return realMs < this.pausedUntilMs;
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  written(): DiskState {
    return this.disk.written;
  }

  synced(): DiskState {
    return this.disk.synced;
  }

  applied(): number {
    return this.sm.applied;
  }

  /** A write is in flight (asyncWrites): the core may hold entries not handed out yet. */
  get writeInFlight(): boolean {
    return this.writing !== null;
  }
}
