/**
 * The largest value a majority of `values` has reached (etcd's quorum.MajorityConfig):
 * sort descending and take the quorum-th. Used for commit indexes and heartbeat rounds.
 */
export function majorityValue(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => b - a);
  return values[Math.floor(values.length / 2)] ?? 0;
}

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}
