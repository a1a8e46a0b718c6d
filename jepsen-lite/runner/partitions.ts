import type { Rng } from '../gen/rng.js';
import type { Link } from './proxy-mesh.js';

/** Partition shapes (Jepsen's names). Pure: nodes and the current leader in, cut links out. */
export type PartitionShape = 'majority-minority' | 'isolate-leader' | 'bridge' | 'ring' | 'one-way';

export const partitionShapes: readonly PartitionShape[] = [
  'majority-minority',
  'isolate-leader',
  'bridge',
  'ring',
  'one-way',
];

/** Both directions of every link between different groups. */
export function cutBetween(groups: readonly (readonly string[])[]): Link[] {
  const out: Link[] = [];
  for (const [gi, a] of groups.entries()) {
    for (const [gj, b] of groups.entries()) {
      if (gi === gj) continue;
      for (const from of a) for (const to of b) out.push({ from, to });
    }
  }
  return out;
}

export function partitionLinks(
  shape: PartitionShape,
  nodes: readonly string[],
  leader: string | null,
  rng: Rng,
): Link[] {
  if (nodes.length < 2) return [];
  const shuffled = rng.sample(nodes, nodes.length);
  switch (shape) {
    case 'majority-minority': {
      const minority = shuffled.slice(0, Math.floor((nodes.length - 1) / 2));
      return cutBetween([minority, shuffled.slice(minority.length)]);
    }
    case 'isolate-leader': {
      const isolated = leader ?? shuffled[0]!;
      return cutBetween([[isolated], nodes.filter((n) => n !== isolated)]);
    }
    case 'bridge': {
      // Two halves that only the bridge node talks to both of.
      const [bridge, ...rest] = shuffled;
      const half = Math.floor(rest.length / 2);
      const left = rest.slice(0, half);
      const right = rest.slice(half);
      return cutBetween([left, right]).filter((l) => l.from !== bridge && l.to !== bridge);
    }
    case 'ring': {
      // Each node keeps only its two ring neighbours (majority rings of 5 overlap).
      const out: Link[] = [];
      const n = shuffled.length;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const distance = Math.min((i - j + n) % n, (j - i + n) % n);
          if (i !== j && distance > 1) out.push({ from: shuffled[i]!, to: shuffled[j]! });
        }
      }
      return out;
    }
    case 'one-way': {
      // The victim (the leader if known) can hear but not speak.
      const victim = leader ?? shuffled[0]!;
      return nodes.filter((n) => n !== victim).map((to) => ({ from: victim, to }));
    }
  }
}
