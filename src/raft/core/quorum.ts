/**
 * The largest value a majority of `values` has reached (etcd's quorum.MajorityConfig):
 * sort descending and take the quorum-th. Used for commit indexes and heartbeat rounds.
 */
export function majorityValue(values: number[]): number {
  const n = values.length;
  if (n === 0) return 0;
  // Insertion sort, descending, in place: a group has a handful of voters, and Array#sort with
  // a comparator allocates its work state on every call (a leader calls this once per ack).
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    for (; j >= 0 && values[j]! < v; j--) values[j + 1] = values[j]!;
    values[j + 1] = v;
  }
  return values[Math.floor(n / 2)]!;
}

let scratch: number[] = [];

/** A reused array of `n` numbers for one synchronous majorityValue call (no allocation). */
export function quorumScratch(n: number): number[] {
  if (scratch.length !== n) scratch = new Array<number>(n).fill(0);
  return scratch;
}

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}
