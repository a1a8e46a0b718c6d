/** Counters one seed produces and a campaign sums. */

export interface SimStats {
  seeds: number;
  steps: number;
  ticks: number;
  messagesSent: number;
  messagesDelivered: number;
  drops: number;
  duplicates: number;
  longDelays: number;
  partitions: number;
  partitionsOneWay: number;
  isolatedLeaders: number;
  pauses: number;
  crashes: number;
  crashesBeforeSync: number;
  crashesAll: number;
  restarts: number;
  unsyncedWritesLost: number;
  proposals: number;
  proposalsRejected: number;
  proposalsCommitted: number;
  proposalsLost: number;
  leaseReads: number;
  readIndexReads: number;
  readsRefused: number;
  leaderChanges: number;
  transfers: number;
  confChanges: number;
  snapshots: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
  simulatedMs: number;
}

export function emptyStats(): SimStats {
  return {
    seeds: 0,
    steps: 0,
    ticks: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    drops: 0,
    duplicates: 0,
    longDelays: 0,
    partitions: 0,
    partitionsOneWay: 0,
    isolatedLeaders: 0,
    pauses: 0,
    crashes: 0,
    crashesBeforeSync: 0,
    crashesAll: 0,
    restarts: 0,
    unsyncedWritesLost: 0,
    proposals: 0,
    proposalsRejected: 0,
    proposalsCommitted: 0,
    proposalsLost: 0,
    leaseReads: 0,
    readIndexReads: 0,
    readsRefused: 0,
    leaderChanges: 0,
    transfers: 0,
    confChanges: 0,
    snapshots: 0,
    snapshotsSent: 0,
    snapshotsInstalled: 0,
    simulatedMs: 0,
  };
}

export function addStats(into: SimStats, from: SimStats): void {
  for (const key of Object.keys(into) as (keyof SimStats)[]) into[key] += from[key];
}

export function formatStats(s: SimStats): string {
  return [
    `seeds=${s.seeds} ticks=${s.ticks} steps=${s.steps} simulatedMs=${Math.round(s.simulatedMs)}`,
    `messages=${s.messagesSent} delivered=${s.messagesDelivered} drops=${s.drops} dups=${s.duplicates} longDelays=${s.longDelays}`,
    `partitions=${s.partitions} (oneWay=${s.partitionsOneWay} isolatedLeader=${s.isolatedLeaders}) pauses=${s.pauses}`,
    `crashes=${s.crashes} (beforeFsync=${s.crashesBeforeSync} wholeCluster=${s.crashesAll}) restarts=${s.restarts} unsyncedWritesLost=${s.unsyncedWritesLost}`,
    `proposals=${s.proposals} committed=${s.proposalsCommitted} lost=${s.proposalsLost} rejected=${s.proposalsRejected}`,
    `readsChecked=${s.leaseReads + s.readIndexReads} (lease=${s.leaseReads} readIndex=${s.readIndexReads}) readsRefused=${s.readsRefused}`,
    `leaderChanges=${s.leaderChanges} transfers=${s.transfers} confChanges=${s.confChanges} snapshots=${s.snapshots} (sent=${s.snapshotsSent} installed=${s.snapshotsInstalled})`,
  ].join('\n');
}
