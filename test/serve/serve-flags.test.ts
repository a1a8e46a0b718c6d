// `drl serve` refuses incomplete security flags with one stderr line and exit 1, before it
// opens anything.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { cliPath, freePort } from './cluster-harness.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'drl-flags-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function serve(extra: string[]): Promise<{ code: number; err: string }> {
  const args = [
    cliPath,
    'serve',
    '--id',
    'n1',
    '--data',
    join(dir, 'data'),
    '--http',
    `127.0.0.1:${await freePort()}`,
    '--raft',
    `127.0.0.1:${await freePort()}`,
    '--peers',
    'n1=127.0.0.1:1',
    ...extra,
  ];
  try {
    await run(process.execPath, args, { timeout: 20_000 });
    return { code: 0, err: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, err: err.stderr };
  }
}

/** Each case exits 1 with one stderr line matching its pattern. */
async function expectRefusals(t: Test, cases: Array<[string[], RegExp]>): Promise<void> {
  const results = await Promise.all(cases.map(([extra]) => serve(extra)));
  for (const [i, [extra, pattern]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 1, `${extra.join(' ')}: exit 1`);
    t.equal(r.err.trim().split('\n').length, 1, 'one stderr line');
    t.match(r.err.trim(), pattern);
  }
}

t.test('incomplete security flags are refused in one line', async (t) => {
  const pem = join(dir, 'x.pem');
  writeFileSync(pem, 'not a certificate');
  const short = join(dir, 'short.secret');
  writeFileSync(short, 'too-short');
  const cases: Array<[string[], RegExp]> = [
    [
      ['--tls-cert', pem],
      /^error: invalid_argument: --tls-cert, --tls-key and --tls-ca go together$/,
    ],
    [['--tls-cert', pem, '--tls-key', pem], /go together/],
    [
      ['--tls-cert', pem, '--tls-key', pem, '--tls-ca', pem],
      /^error: invalid_argument: --tls-cert\/--tls-key\/--tls-ca: .*PEM/,
    ],
    [['--protect-ops'], /^error: invalid_argument: --protect-ops needs --token/],
    [
      ['--tls-cert', join(dir, 'nope'), '--tls-key', pem, '--tls-ca', pem],
      /^error: invalid_argument: --tls-cert .*nope: ENOENT/,
    ],
    [['--cluster-secret-file', short], /^error: invalid_argument: .*needs >= 16 bytes/],
  ];
  await expectRefusals(t, cases);
});

t.test('an unknown --log-writes mode is refused in one line', async (t) => {
  const r = await serve(['--log-writes', 'fast']);
  t.equal(r.code, 2, 'a usage error: exit 2');
  t.equal(r.err.trim().split('\n').length, 1, 'one stderr line');
  t.match(r.err.trim(), /'fast' is invalid.*sync, worker, pool/);
});

t.test('a --log-store that cannot work is refused in one line', async (t) => {
  const unknown = await serve(['--log-store', 'lmdb']);
  t.equal(unknown.code, 2, 'a usage error: exit 2');
  t.match(unknown.err.trim(), /'lmdb' is invalid.*file, sqlite/);
  await expectRefusals(t, [
    [
      ['--log-writes', 'worker'],
      /^error: invalid_argument: --log-writes worker needs --log-store sqlite/,
    ],
  ]);
});

t.test('a snapshot bound below 1 is refused in one line', async (t) => {
  await expectRefusals(t, [
    [['--snapshot-every', '0'], /^error: invalid_argument: --snapshot-every must be at least 1/],
    [['--snapshot-pages', '-5'], /^error: invalid_argument: --snapshot-pages must be at least 1/],
  ]);
});

t.test('an HTTP port already taken: one line, exit 1, the Raft node stopped too', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const started = Date.now();
  // The last --http wins over the helper's own.
  const r = await serve(['--http', `127.0.0.1:${port}`]);
  t.equal(r.code, 1, 'exits 1 (before: the Raft node kept the process alive without its API)');
  t.ok(Date.now() - started < 15_000, 'promptly');
  t.match(r.err.trim(), /^error: .*EADDRINUSE/);
  t.equal(r.err.trim().split('\n').length, 1, 'one stderr line');
});

t.test('advertised addresses: a wildcard or a bad one is refused in one line', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['--advertise-http', '0.0.0.0:8001'],
      /^error: invalid_argument: --advertise-http must name a host others can reach, not 0\.0\.0\.0$/,
    ],
    [
      ['--advertise-raft', '[::]:9001'],
      /^error: invalid_argument: --advertise-raft must name a host/,
    ],
    [['--advertise-http', 'nope'], /^error: invalid_argument: --advertise-http must be HOST:PORT/],
  ];
  await expectRefusals(t, cases);
});

t.test('a node bound to 0.0.0.0 tells others its --advertise-http', async (t) => {
  const port = await freePort();
  const raft = `127.0.0.1:${await freePort()}`;
  const child = spawn(
    process.execPath,
    [
      cliPath,
      'serve',
      '--id',
      'n1',
      '--data',
      join(dir, 'advertise'),
      '--http',
      `0.0.0.0:${port}`,
      '--advertise-http',
      `127.0.0.1:${port}`,
      '--raft',
      raft,
      '--peers',
      `n1=${raft}`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let members: unknown = null;
  for (let i = 0; i < 100 && members === null; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/cluster`);
      const body = (await r.json()) as { leader: string | null; members: unknown };
      if (body.leader === 'n1') members = body.members;
    } catch {}
    if (members === null) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(members, [{ id: 'n1', raft, http: `127.0.0.1:${port}` }]);
});
