// `drl dev` (what `npm start` runs) brings a group up, and the README's curl lines work on it.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { pidAlive as alive } from '../../jepsen-lite/runner/pid-alive.js';
import { cliPath, freePortBlock, sleep } from './cluster-harness.js';

const run = promisify(execFile);

/** The shell lines of README's fenced blocks that follow a `<!-- dev-curl -->` marker. */
export function readmeCurlLines(readme: string): string[] {
  const lines: string[] = [];
  for (const m of readme.matchAll(/<!-- dev-curl -->\s*```(?:sh|bash)?\n([\s\S]*?)```/g)) {
    for (const line of m[1]!.split('\n')) if (line.startsWith('curl ')) lines.push(line);
  }
  return lines;
}

t.test('drl dev serves the README curl examples as written', async (t) => {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const curls = readmeCurlLines(readme);
  t.ok(curls.length >= 3, 'the README shows curl examples');
  // dev uses base+1..3 (HTTP) and base+1001..1003 (Raft).
  const base = await freePortBlock([1, 2, 3, 1001, 1002, 1003]);
  const data = mkdtempSync(join(tmpdir(), 'drl-dev-'));
  const dev = spawn(
    process.execPath,
    // Flags after -- reach every node: snapshots every 2 entries show in the logs below.
    [cliPath, 'dev', '--base-port', String(base), '--data', data, '--', '--snapshot-every', '2'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  dev.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  dev.stderr.on('data', (b: Buffer) => {
    out += b.toString();
  });
  t.teardown(async () => {
    if (dev.exitCode === null) {
      const exited = new Promise((r) => dev.once('exit', r));
      dev.kill('SIGTERM');
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  });
  for (let i = 0; i < 300 && !out.includes('group up'); i++) await sleep(100);
  t.match(out, /\[dev\] group up, leader n[123]/, 'dev prints the leader');
  t.match(out, /\[n1\] /, 'logs are prefixed by node id');
  for (const line of curls) {
    const cmd = line.replaceAll(
      /127\.0\.0\.1:800(\d)/g,
      (_, d: string) => `127.0.0.1:${base + Number(d)}`,
    );
    const { stdout } = await run('sh', ['-c', cmd], { timeout: 10_000 });
    const body = JSON.parse(stdout) as Record<string, unknown>;
    t.notOk('error' in body && !line.includes('# error'), `${line} -> ${stdout.trim()}`);
  }
  for (let i = 0; i < 100 && !out.includes('snapshot written'); i++) await sleep(50);
  t.match(out, /snapshot written/, 'the serve flag after -- took effect');
  const exited = new Promise<number | null>((r) => dev.once('exit', (code) => r(code)));
  dev.kill('SIGTERM');
  t.equal(await exited, 0, 'Ctrl-C (SIGTERM) stops every node and exits 0');
});

t.test('drl dev refuses a passed-through flag it sets per node', async (t) => {
  const err = await run(process.execPath, [cliPath, 'dev', '--', '--peers', 'x']).then(
    () => null,
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(err?.code, 1, 'exits 1');
  t.match(err?.stderr.trim(), /^error: invalid_argument: --peers is set by drl dev for each node$/);
});

t.test('drl dev stops its nodes when the process that started it dies', async (t) => {
  // As under `npm start`: npm -> sh -> drl dev. A signal to npm ends npm and sh only.
  const base = await freePortBlock([1, 2, 3, 1001, 1002, 1003]);
  const data = mkdtempSync(join(tmpdir(), 'drl-dev-parent-'));
  const starter = `
    const { spawn } = require('node:child_process');
    const dev = spawn(process.execPath, ${JSON.stringify([cliPath, 'dev', '--base-port', String(base), '--data', data])}, { stdio: 'inherit' });
    console.log('dev pid ' + dev.pid);
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['-e', starter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  parent.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  parent.stderr.on('data', (b: Buffer) => {
    out += b.toString();
  });
  let devPid = 0;
  t.teardown(async () => {
    if (parent.exitCode === null) parent.kill('SIGKILL');
    // Should the test fail, SIGTERM still stops dev's nodes (a SIGKILL would orphan them).
    if (devPid > 0 && alive(devPid)) process.kill(devPid, 'SIGTERM');
    for (let i = 0; i < 100 && devPid > 0 && alive(devPid); i++) await sleep(100);
    rmSync(data, { recursive: true, force: true });
  });
  for (let i = 0; i < 300 && !out.includes('group up'); i++) await sleep(100);
  t.match(out, /\[dev\] group up/, 'the group came up');
  devPid = Number(/dev pid (\d+)/.exec(out)?.[1]);
  t.ok(devPid > 0 && alive(devPid));
  parent.kill('SIGKILL');
  for (let i = 0; i < 150 && alive(devPid); i++) await sleep(100);
  t.notOk(alive(devPid), 'drl dev exited');
  t.match(out, /the parent process exited; stopping the nodes/);
  t.equal((out.match(/"msg":"node stopped"/g) ?? []).length, 3, 'each node stopped cleanly');
});
