/**
 * The one place the simulator meets the core: it builds the SAME core `drl serve` runs
 * (createRaftCore from src/raft/core) on top of what a node's disk has synced, exactly as a
 * restarting process would.
 */
import { createRaftCore, MemoryLogView } from '../../src/raft/core/index.js';
import type { RaftConfig, RaftCore, RaftEnv } from '../../src/raft/types.js';
import type { DiskState } from './sim-disk.js';

export function createCoreFromDisk(config: RaftConfig, disk: DiskState, env: RaftEnv): RaftCore {
  const view = new MemoryLogView({
    hardState: { ...disk.hardState },
    snapshot: disk.snapshot,
    entries: disk.entries.slice(),
  });
  return createRaftCore(config, view, env);
}
