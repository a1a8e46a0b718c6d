// Benchmark of the embedded limiter (not a test): `npm run bench:limiter`.
// Alternates ours and rate-limiter-flexible's RateLimiterMemory in one process, three rounds,
// and prints medians. Options: --rounds N, --keys N (workload b), --hot-calls N (workload a),
// --only a|b|persist|memory (one part, e.g. under --cpu-prof), --algorithms a,b or --algo a (a
// subset of sliding-log,sliding-counter,token-bucket), --memory ALGORITHM (internal: bytes per
// key in a fresh child process). A quick look at one case, in about 30 s:
//   npm run bench:limiter -- --only b --algo sliding-log --rounds 1
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimiter } from '../src/embedded/index.js';
import type { Algorithm } from '../src/limiter/types.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    keys: { type: 'string', default: '1000000' },
    'hot-calls': { type: 'string', default: '5000000' },
    'persist-ms': { type: 'string', default: '2000' },
    memory: { type: 'string' },
    only: { type: 'string' },
    algorithms: { type: 'string', default: 'sliding-log,sliding-counter,token-bucket' },
    algo: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const KEYS = Number(args.keys);
const HOT_CALLS = Number(args['hot-calls']);
const PERSIST_MS = Number(args['persist-ms']);
const GRANTS_PER_KEY = 5;
const ALGORITHMS = (args.algo ?? args.algorithms ?? '').split(',') as Algorithm[];
for (const algorithm of ALGORITHMS) {
  if (!['sliding-log', 'sliding-counter', 'token-bucket'].includes(algorithm)) {
    throw new Error(`unknown algorithm ${JSON.stringify(algorithm)}`);
  }
}
if (args.only !== undefined && !['a', 'b', 'persist', 'memory'].includes(args.only)) {
  throw new Error(`--only takes a, b, persist or memory, not ${JSON.stringify(args.only)}`);
}
const HOT = { limit: 100, windowMs: 1000 };
const MANY = { limit: 10, windowMs: 10 * 60 * 1000 };
const RLF_BATCH = 1000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:limiter)');

/** The CPU time at the last startClock (this process: ours and RLF alike run in it). */
let cpuAtStart = process.cpuUsage();
/** Decisions per CPU-second of the last perSecond call: steadier than wall time on a shared box. */
let lastCpuRate = Number.NaN;

function startClock(): bigint {
  cpuAtStart = process.cpuUsage();
  return process.hrtime.bigint();
}

function perSecond(calls: number, startNs: bigint): number {
  const cpu = process.cpuUsage(cpuAtStart);
  lastCpuRate = calls / ((cpu.user + cpu.system) / 1e6);
  return calls / (Number(process.hrtime.bigint() - startNs) / 1e9);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** (a) one hot key, limit 100/s: nearly every call is a denial. */
function oursHot(algorithm: Algorithm, path?: string, durability?: 'normal' | 'fsync'): number {
  const limiter = new RateLimiter({ path, durability, rules: { default: { ...HOT, algorithm } } });
  let granted = 0;
  const start = startClock();
  for (let i = 0; i < HOT_CALLS; i++) if (limiter.allow('hot')) granted++;
  const rate = perSecond(HOT_CALLS, start);
  limiter.close();
  if (granted === 0) throw new Error('hot: nothing granted');
  return rate;
}

/** (b) KEYS keys round-robin, limit 10 per 10 min, 5 grants each: every call is a grant. */
function oursMany(algorithm: Algorithm, keep?: (l: RateLimiter) => void): number {
  const limiter = new RateLimiter({ rules: { default: { ...MANY, algorithm } } });
  let granted = 0;
  const start = startClock();
  for (let round = 0; round < GRANTS_PER_KEY; round++) {
    for (let i = 0; i < KEYS; i++) if (limiter.allow(`user:${i}`)) granted++;
  }
  const rate = perSecond(KEYS * GRANTS_PER_KEY, start);
  if (granted !== KEYS * GRANTS_PER_KEY) throw new Error(`many: ${granted} granted`);
  if (keep) keep(limiter);
  else limiter.close();
  return rate;
}

/** RateLimiterMemory.consume returns a promise: issue a batch, then let the batch settle. */
async function rlfRun(
  points: number,
  durationSec: number,
  calls: number,
  keyOf: (i: number) => string,
): Promise<number> {
  const rl = new RateLimiterMemory({ points, duration: durationSec });
  let granted = 0;
  const ok = () => {
    granted++;
  };
  const no = () => {};
  const start = startClock();
  for (let i = 0; i < calls; i += RLF_BATCH) {
    const end = Math.min(calls, i + RLF_BATCH);
    let last: Promise<void> | undefined;
    for (let j = i; j < end; j++) last = rl.consume(keyOf(j)).then(ok, no);
    await last;
  }
  const rate = perSecond(calls, start);
  if (granted === 0) throw new Error('rlf: nothing granted');
  return rate;
}

const rlfHot = () => rlfRun(HOT.limit, HOT.windowMs / 1000, HOT_CALLS, () => 'hot');
const rlfMany = () =>
  rlfRun(MANY.limit, MANY.windowMs / 1000, KEYS * GRANTS_PER_KEY, (i) => `user:${i % KEYS}`);

/** Grants only (a new key per call) for PERSIST_MS: one journal line written per decision. */
function persistedGrants(path: string, durability: 'normal' | 'fsync'): number {
  const limiter = new RateLimiter({ path, durability, rules: { default: MANY } });
  const start = startClock();
  const deadlineNs = start + BigInt(PERSIST_MS) * 1_000_000n;
  let calls = 0;
  while (process.hrtime.bigint() < deadlineNs) {
    for (let j = 0; j < 16; j++) {
      if (!limiter.allow(`p:${calls}`)) throw new Error('persisted: denied');
      calls++;
    }
  }
  const rate = perSecond(calls, start);
  limiter.close();
  return rate;
}

function memory(): { heap: number; rss: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

/** In a fresh process: bytes per key held after workload (b). */
function measureMemory(algorithm: Algorithm): void {
  const before = memory();
  let held: RateLimiter | undefined;
  oursMany(algorithm, (l) => {
    held = l;
  });
  const after = memory();
  const perKey = {
    algorithm,
    heapBytesPerKey: (after.heap - before.heap) / KEYS,
    rssBytesPerKey: (after.rss - before.rss) / KEYS,
  };
  held?.close();
  process.stdout.write(`${JSON.stringify(perKey)}\n`);
}

function memoryInChild(algorithm: Algorithm | 'rlf'): Record<string, number | string> {
  const script = join(import.meta.dirname, 'limiter.ts');
  const out = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, '--memory', algorithm, '--keys', String(KEYS)],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (out.status !== 0) throw new Error(`memory child failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

/** RateLimiterMemory's bytes per key after (b), for comparison. */
async function measureRlfMemory(): Promise<void> {
  const before = memory();
  const rl = new RateLimiterMemory({ points: MANY.limit, duration: MANY.windowMs / 1000 });
  for (let round = 0; round < GRANTS_PER_KEY; round++) {
    for (let i = 0; i < KEYS; i += RLF_BATCH) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(KEYS, i + RLF_BATCH); j++) batch.push(rl.consume(`user:${j}`));
      await Promise.all(batch);
    }
  }
  const after = memory();
  process.stdout.write(
    `${JSON.stringify({
      algorithm: 'rlf',
      heapBytesPerKey: (after.heap - before.heap) / KEYS,
      rssBytesPerKey: (after.rss - before.rss) / KEYS,
      held: rl.points,
    })}\n`,
  );
}

const fmt = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${Math.round(n).toLocaleString('en-US')} /s`;
const runs = (part: string) => args.only === undefined || args.only === part;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  if (args.memory !== undefined) {
    if (args.memory === 'rlf') await measureRlfMemory();
    else measureMemory(args.memory as Algorithm);
    return;
  }
  console.log(`bench:limiter  rounds ${ROUNDS}, hot calls ${HOT_CALLS}, keys ${KEYS}`);
  console.log(`load average at start: ${load()}`);
  const samples = new Map<string, number[]>();
  const add = (name: string, value: number) => {
    samples.set(name, [...(samples.get(name) ?? []), value]);
    samples.set(`${name} /cpu-s`, [...(samples.get(`${name} /cpu-s`) ?? []), lastCpuRate]);
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const algorithm of runs('a') ? ALGORITHMS : []) {
      add(`a ${algorithm}`, oursHot(algorithm));
      gc!();
      add('a rlf', await rlfHot());
      gc!();
    }
    for (const algorithm of runs('b') ? ALGORITHMS : []) {
      add(`b ${algorithm}`, oursMany(algorithm));
      gc!();
      add('b rlf', await rlfMany());
      gc!();
    }
    if (runs('persist')) persisted(add);
    console.log(`round ${round + 1} done (load ${load()})`);
  }
  report(samples);
}

function persisted(add: (name: string, value: number) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'drl-bench-'));
  try {
    add('a sliding-log persisted normal', oursHot('sliding-log', join(dir, 'a.db'), 'normal'));
    add('a sliding-log persisted fsync', oursHot('sliding-log', join(dir, 'b.db'), 'fsync'));
    add('grants persisted normal', persistedGrants(join(dir, 'c.db'), 'normal'));
    add('grants persisted fsync', persistedGrants(join(dir, 'd.db'), 'fsync'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(samples: Map<string, number[]>): void {
  const med = new Map([...samples].map(([k, v]) => [k, median(v)]));
  console.log('\nmedians (decisions per second):');
  for (const [name, value] of med) console.log(`  ${name.padEnd(42)} ${fmt(value)}`);
  console.log('\nratios vs RateLimiterMemory (same workload, same run):');
  for (const algorithm of runs('a') || runs('b') ? ALGORITHMS : []) {
    // Only the parts that ran (--only).
    const ratios = (suffix: string) =>
      ['a', 'b']
        .filter((part) => med.has(`${part} rlf`))
        .map((part) => {
          const ours = med.get(`${part} ${algorithm}${suffix}`) ?? 0;
          return `(${part}) ${(ours / (med.get(`${part} rlf${suffix}`) ?? 1)).toFixed(2)}x`;
        })
        .join('   ');
    console.log(`  ${algorithm.padEnd(16)} ${ratios('')}  (wall)`);
    console.log(`  ${algorithm.padEnd(16)} ${ratios(' /cpu-s')}  (per CPU-second)`);
  }
  console.log('\nbytes per key after (b) (fresh process each; heap+arrayBuffers after GC, RSS):');
  for (const algorithm of runs('memory') ? ([...ALGORITHMS, 'rlf'] as const) : []) {
    const m = memoryInChild(algorithm);
    console.log(
      `  ${String(algorithm).padEnd(16)} heap ${Number(m.heapBytesPerKey).toFixed(1)} B/key   rss ${Number(m.rssBytesPerKey).toFixed(1)} B/key`,
    );
  }
  console.log(`\nload average at end: ${load()}`);
}

await main();
