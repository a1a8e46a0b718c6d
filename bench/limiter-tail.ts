// Benchmark of the persisted embedded limiter's per-call latency (not a test):
// `npm run bench:limiter:tail`. Grants over --keys keys round robin (each key granted again
// every --keys calls, so snapshots write one row per changed key), --calls calls per round,
// against rate-limiter-flexible's RateLimiterSQLite on better-sqlite3 (WAL, synchronous NORMAL,
// or FULL with --durability fsync: the same durability as ours) in the same process,
// alternating, --rounds rounds. Prints per-call p50 / p99 / p99.9 / p99.99 / max and calls over 1 ms and 10 ms, the
// medians over rounds, and the ratios. The long calls are what this is about: a snapshot or a
// WAL checkpoint written inside one call holds that call (and the event loop) for all of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import { RateLimiter } from '../src/embedded/index.js';
import { loadSqlite } from '../src/storage/sqlite-open.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    keys: { type: 'string', default: '10000' },
    calls: { type: 'string', default: '200000' },
    'snapshot-every': { type: 'string', default: '10000' },
    durability: { type: 'string', default: 'normal' },
  },
});
const ROUNDS = Number(args.rounds);
const KEYS = Number(args.keys);
const CALLS = Number(args.calls);
const SNAPSHOT_EVERY = Number(args['snapshot-every']);
const WINDOW_MS = 60 * 60 * 1000;
const DURABILITY = args.durability as 'normal' | 'fsync';
if (DURABILITY !== 'normal' && DURABILITY !== 'fsync') {
  throw new Error(`--durability takes normal or fsync, not ${JSON.stringify(args.durability)}`);
}
/** RateLimiterSQLite's connection at the same durability as ours. */
const SYNCHRONOUS = DURABILITY === 'fsync' ? 'FULL' : 'NORMAL';

interface Tail {
  perS: number;
  p50: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
  over1: number;
  over10: number;
}

function tail(latencyMs: Float64Array, elapsedMs: number): Tail {
  const s = latencyMs.slice().sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
  let over1 = 0;
  let over10 = 0;
  for (const x of s) {
    if (x > 1) over1++;
    if (x > 10) over10++;
  }
  const perS = (s.length / elapsedMs) * 1000;
  return {
    perS,
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    p9999: q(0.9999),
    max: q(1),
    over1,
    over10,
  };
}

function ours(dir: string): Tail {
  const limiter = new RateLimiter({
    path: join(dir, 'ours.db'),
    snapshotEveryCommands: SNAPSHOT_EVERY,
    durability: DURABILITY,
    rules: { default: { limit: CALLS, windowMs: WINDOW_MS } },
  });
  const latencyMs = new Float64Array(CALLS);
  const startMs = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    if (!limiter.allow(`user:${i % KEYS}`)) throw new Error('ours: denied');
    latencyMs[i] = performance.now() - t0;
  }
  const result = tail(latencyMs, performance.now() - startMs);
  limiter.close();
  return result;
}

async function rlf(dir: string): Promise<Tail> {
  const db = new (loadSqlite())(join(dir, 'rlf.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${SYNCHRONOUS}`);
  const options = {
    storeClient: db,
    storeType: 'better-sqlite3',
    tableName: 'rlf',
    points: CALLS,
    duration: WINDOW_MS / 1000,
  };
  // The table is created asynchronously; the callback says when it is there.
  const limiter = await new Promise<RateLimiterSQLite>((resolve, reject) => {
    const created: RateLimiterSQLite = new RateLimiterSQLite(options, (err?: Error) =>
      err ? reject(err) : resolve(created),
    );
  });
  await limiter.consume('warm-up');
  const latencyMs = new Float64Array(CALLS);
  const startMs = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await limiter.consume(`user:${i % KEYS}`);
    latencyMs[i] = performance.now() - t0;
  }
  const result = tail(latencyMs, performance.now() - startMs);
  db.close();
  return result;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const ms = (x: number) => x.toFixed(3).padStart(8);

function row(name: string, t: Tail): string {
  return `  ${name.padEnd(22)} ${Math.round(t.perS).toLocaleString('en-US').padStart(9)}/s ${ms(t.p50)} ${ms(t.p99)} ${ms(t.p999)} ${ms(t.p9999)} ${ms(t.max)} ${String(t.over1).padStart(7)} ${String(t.over10).padStart(7)}`;
}

function median(ts: Tail[], field: keyof Tail): number {
  const s = ts.map((t) => t[field]).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  console.log(
    `bench:limiter:tail  ${CALLS} grants per round over ${KEYS} keys, snapshot every ${SNAPSHOT_EVERY}, ${ROUNDS} rounds, durability ${DURABILITY} (WAL, synchronous ${SYNCHRONOUS}) for both`,
  );
  console.log(`load average at start: ${load()}`);
  console.log(
    `  ${''.padEnd(22)} ${'calls'.padStart(11)} ${'p50 ms'.padStart(8)} ${'p99'.padStart(8)} ${'p99.9'.padStart(8)} ${'p99.99'.padStart(8)} ${'max'.padStart(8)} ${'>1 ms'.padStart(7)} ${'>10 ms'.padStart(7)}`,
  );
  const results: { ours: Tail[]; rlf: Tail[] } = { ours: [], rlf: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'drl-tail-'));
    try {
      // Alternate which runs first, so neither always has the warmer process.
      const order = round % 2 === 0 ? (['ours', 'rlf'] as const) : (['rlf', 'ours'] as const);
      for (const name of order) {
        const t = name === 'ours' ? ours(dir) : await rlf(dir);
        results[name].push(t);
        console.log(
          row(`${name === 'ours' ? 'drl RateLimiter' : 'RateLimiterSQLite'} r${round + 1}`, t),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('\nmedians over rounds, and drl / RateLimiterSQLite:');
  for (const field of ['perS', 'p50', 'p99', 'p999', 'p9999', 'max', 'over1', 'over10'] as const) {
    const a = median(results.ours, field);
    const b = median(results.rlf, field);
    console.log(
      `  ${field.padEnd(7)} drl ${a.toFixed(3).padStart(12)}   rlf ${b.toFixed(3).padStart(12)}   ${(a / b).toFixed(2)}x`,
    );
  }
  console.log(`load average at end: ${load()}`);
}

await main();
