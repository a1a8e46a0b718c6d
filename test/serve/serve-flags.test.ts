// `drl serve` refuses incomplete security flags with one stderr line and exit 1, before it
// opens anything.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
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
  const results = await Promise.all(cases.map(([extra]) => serve(extra)));
  for (const [i, [extra, pattern]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 1, `${extra.join(' ')}: exit 1`);
    t.equal(r.err.trim().split('\n').length, 1, 'one stderr line');
    t.match(r.err.trim(), pattern);
  }
});

t.test('an unknown --log-writes mode is refused in one line', async (t) => {
  const r = await serve(['--log-writes', 'fast']);
  t.equal(r.code, 2, 'a usage error: exit 2');
  t.equal(r.err.trim().split('\n').length, 1, 'one stderr line');
  t.match(r.err.trim(), /'fast' is invalid.*sync, worker, pool/);
});
