/**
 * bench:raft TRACE=1: where the slowest 1 % of the fixed phase's entries spent their time,
 * against the median ones. Stage times come from every node (bench/raft-trace.ts), all on
 * CLOCK_MONOTONIC; latency is measured from the scheduled time, as the judged figure.
 */
import { TraceStage as S } from '../src/raft/driver/entry-trace.js';
import type { LoadTrace } from './raft-trace.js';

type Dump = Record<string, number[]>;

interface Row {
  total: number;
  parts: number[];
  quorum: string;
  /** Counterfactuals from scheduled time (see the report's last lines). */
  leaderDurable: number;
  fsyncQuorum: number;
  followersOnly: number;
}

function at(d: Dump, key: string | number, k: number): number {
  return d[String(key)]?.[k] ?? 0;
}

/** Second smallest of three (the time a 2-of-3 quorum was reached), with who made it. */
function quorumOf(times: [string, number][]): [number, string] {
  const s = times.filter(([, t]) => t > 0).sort((a, b) => a[1] - b[1]);
  if (s.length < 2) return [0, '-'];
  return [s[1]![1], `${s[0]![0]}+${s[1]![0]}`];
}

export function traceReport(
  load: LoadTrace,
  dumps: Record<string, Dump>,
  leaderId: string,
  lo: number,
): string[] {
  const followers = Object.keys(dumps).filter((id) => id !== leaderId);
  const L = dumps[leaderId]!;
  const names = [
    'generator lag (scheduled -> propose call)',
    'propose -> leader Ready taken',
    'leader Ready -> Apps on the wire',
    'Apps on the wire -> leader fsync done',
    ...followers.flatMap((f) => [
      `${f}: Apps sent -> App stepped`,
      `${f}: App stepped -> its Ready taken`,
      `${f}: Ready -> fsync done`,
      `${f}: fsync done -> AppResp on the wire`,
      `${f}: AppResp sent -> leader stepped it`,
    ]),
    'quorum reached -> leader commit seen (*)',
    'propose -> commit',
    'commit -> applied',
    'applied -> answer callback',
  ];
  const rows: Row[] = [];
  for (let k = 0; k < load.scheduled.length; k++) {
    const sched = load.scheduled[k]!;
    const issued = load.issued[k]!;
    const resolved = load.resolved[k]!;
    const j = load.lo + k - lo;
    if (sched === 0 || resolved === 0) continue;
    const lReady = at(L, S.ready, j);
    const lSent = at(L, S.sent, j);
    const lPersisted = at(L, S.persisted, j);
    const committed = at(L, S.committed, j);
    const applied = at(L, S.applied, j);
    if (!lReady || !lSent || !lPersisted || !committed || !applied) continue;
    const parts = [issued - sched, lReady - issued, lSent - lReady, lPersisted - lSent];
    const q: [string, number][] = [['L', lPersisted]];
    const synced: [string, number][] = [['L', lPersisted]];
    let complete = true;
    for (const f of followers) {
      const F = dumps[f]!;
      const recv = at(F, S.received, j);
      const fReady = at(F, S.ready, j);
      const fPersisted = at(F, S.persisted, j);
      const respSent = at(F, S.respSent, j);
      const acked = at(L, `${S.acked}:${f}`, j);
      if (!recv || !fReady || !fPersisted || !respSent || !acked) complete = false;
      parts.push(recv - lSent, fReady - recv, fPersisted - fReady, respSent - fPersisted);
      parts.push(acked - respSent);
      q.push([f, acked]);
      synced.push([f, fPersisted]);
    }
    if (!complete) continue;
    const [quorumAt, quorum] = quorumOf(q);
    parts.push(committed - quorumAt, committed - issued, applied - committed, resolved - applied);
    const fsyncQuorum = quorumOf(synced)[0] - sched;
    const followersOnly = Math.max(...synced.slice(1).map(([, t]) => t)) - sched;
    rows.push({
      total: resolved - sched,
      parts,
      quorum,
      leaderDurable: lPersisted - sched,
      fsyncQuorum,
      followersOnly,
    });
  }
  if (rows.length < 200) return [`trace: only ${rows.length} complete entries, no breakdown`];
  rows.sort((a, b) => a.total - b.total);
  const band = (from: number, to: number): Row[] =>
    rows.slice(Math.floor(from * rows.length), Math.max(Math.floor(to * rows.length), 1));
  const median = band(0.45, 0.55);
  const slow = band(0.99, 1);
  const mean = (rs: Row[], i: number): number =>
    rs.reduce((a, r) => a + r.parts[i]!, 0) / rs.length;
  const quorums = (rs: Row[]): string => {
    const c = new Map<string, number>();
    for (const r of rs) c.set(r.quorum, (c.get(r.quorum) ?? 0) + 1);
    return [...c].map(([k, n]) => `${k} ${((n / rs.length) * 100).toFixed(0)}%`).join(', ');
  };
  const out = [
    `trace: ${rows.length} entries; mean ms per stage, median band (p45-p55, total ${(median.reduce((a, r) => a + r.total, 0) / median.length).toFixed(2)} ms) vs slowest 1 % (total ${(slow.reduce((a, r) => a + r.total, 0) / slow.length).toFixed(2)} ms)`,
  ];
  for (let i = 0; i < names.length; i++) {
    out.push(
      `  ${names[i]!.padEnd(44)} ${mean(median, i).toFixed(3).padStart(8)} ${mean(slow, i).toFixed(3).padStart(8)}`,
    );
  }
  out.push(`  (*) quorum = 2nd of {leader fsync done, each follower's AppResp stepped}`);
  out.push(`  quorum made by: median ${quorums(median)}; slowest 1 % ${quorums(slow)}`);
  const pct = (f: (r: Row) => number, p: number): string => {
    const v = rows.map(f).sort((a, b) => a - b);
    return v[Math.min(v.length - 1, Math.floor(p * v.length))]!.toFixed(2);
  };
  const line = (name: string, f: (r: Row) => number): string =>
    `  ${name.padEnd(62)} p50 ${pct(f, 0.5).padStart(7)} p99 ${pct(f, 0.99).padStart(7)} ms`;
  out.push('from the scheduled time:');
  out.push(line('answer (measured)', (r) => r.total));
  out.push(
    line("leader's own fsync done (a floor while answers wait for it)", (r) => r.leaderDurable),
  );
  out.push(
    line('2nd of 3 fsyncs done (acks stepped at once, no loop delay)', (r) => r.fsyncQuorum),
  );
  out.push(line('both followers fsynced', (r) => r.followersOnly));
  return out;
}
