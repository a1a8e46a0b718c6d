import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { RateLimiter } from '../../src/embedded/index.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'allow-until-killed.ts');
const LINES_BEFORE_KILL = 3000;
const CHILD_TIMEOUT_MS = 60_000;

/** Runs the child until it has printed enough decisions, kills it with SIGKILL, returns them. */
function runAndKill(path: string, snapshotEvery: number, keys: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, path, String(snapshotEvery), String(keys)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: string[] = [];
    let partial = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('child did not print enough decisions in time'));
    }, CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      // One more than LINES_BEFORE_KILL: the first line is "ready", not a decision.
      if (!killed && lines.length > LINES_BEFORE_KILL) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // 'close', not 'exit': every line the child put in the pipe before dying is read first.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${signal})`));
      // A line cut mid-write was never fully acknowledged: it is ignored with `partial`.
      else resolve(lines.filter((l) => l !== 'ready'));
    });
  });
}

// 2,000 keys at 500: each snapshot writes ~500 changed keys over several calls, so the kill
// often lands while one is half written.
for (const [snapshotEvery, keys] of [
  [10_000, 7],
  [97, 7],
  [500, 2000],
] as const) {
  t.test(
    `every printed grant survives SIGKILL (snapshot every ${snapshotEvery}, ${keys} keys)`,
    async (t) => {
      const path = join(t.testdir(), 'state.db');
      const printed = await runAndKill(path, snapshotEvery, keys);
      t.ok(printed.length >= LINES_BEFORE_KILL, `${printed.length} decisions printed`);
      const granted = new Map<string, number>();
      for (const line of printed) {
        const [key, allowed] = line.split(' ');
        if (allowed === '1') granted.set(key!, (granted.get(key!) ?? 0) + 1);
      }
      t.equal(granted.get('tight'), 5, 'the tight rule granted exactly its limit');

      // Each check records one more grant: used before it = limit - remaining - 1.
      const limiter = new RateLimiter({ path });
      let extra = 0;
      for (let k = 0; k < keys; k++) {
        const key = `k${k}`;
        const d = limiter.check(key);
        const used = d.limit - d.remaining - 1;
        const acked = granted.get(key) ?? 0;
        if (used < acked) t.fail(`${key}: ${used} stored < ${acked} acknowledged`);
        extra += used - acked;
      }
      t.ok(
        extra <= 1,
        `every acknowledged grant stored; at most the one in flight extra (${extra})`,
      );
      t.match(limiter.check('hot', { rule: 'tight' }), { allowed: false, remaining: 0 });
      limiter.close();
    },
  );
}
