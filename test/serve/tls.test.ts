// TLS on a real 3-node group: the API is https only, Raft links are mutual TLS against the
// cluster CA, and the Client, the follower's forwarder and the `drl` CLI all talk https.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import t from 'tap';
import { Client } from '../../src/client/index.js';
import { parseAddress } from '../../src/raft/transport/transport-types.js';
import { Cluster, cliPath } from './cluster-harness.js';
import { type CertFiles, makeCerts } from './test-certs.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'drl-tls-it-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const certs = makeCerts(dir);
const tlsArgs = (f: CertFiles) => ['--tls-cert', f.cert, '--tls-key', f.key, '--tls-ca', f.ca];

/** What a TLS client presenting `f` gets from a Raft port: the HMAC Hello frame, or nothing. */
function raftGreeting(address: string, f: CertFiles): Promise<'hello' | 'refused'> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      key: readFileSync(f.key),
      cert: readFileSync(f.cert),
      ca: readFileSync(f.ca),
      checkServerIdentity: () => undefined,
    });
    const done = (r: 'hello' | 'refused') => {
      socket.destroy();
      resolve(r);
    };
    socket.once('data', () => done('hello'));
    socket.once('error', () => done('refused'));
    socket.once('close', () => done('refused'));
    socket.setTimeout(3000, () => done('refused'));
  });
}

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [cliPath, ...args], {
      timeout: 20_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

t.test('a group with --tls-cert/--tls-key/--tls-ca', async (t) => {
  const c = await Cluster.create({ tlsCa: certs.node.ca, extraArgs: () => tlsArgs(certs.node) });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  const follower = c.specs.map((s) => s.id).find((id) => id !== leader)!;
  const endpoints = c.specs.map((s) => `https://${s.http}`);

  await t.test('the Client talks https with the CA option and finds the leader', async (t) => {
    const client = new Client({ endpoints, ca: readFileSync(certs.node.ca), timeoutMs: 5000 });
    t.teardown(() => client.close());
    await client.setRule('default', { limit: 3, windowMs: 60_000 });
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await client.check('tls-key'));
    t.same(
      got.map((d) => d.allowed),
      [true, true, true, false],
    );
    t.ok(got[0]!.index! > 0, 'decided through the log');
    t.match(client.leader, /^https:\/\//, 'the discovered leader is reached over https');
  });

  await t.test('a follower forwards to the leader over https', async (t) => {
    const r = await c.request(follower, 'POST', '/allow', {
      key: 'fwd',
      limit: 2,
      windowMs: 60_000,
    });
    t.equal(r.status, 200);
    t.equal(r.body.allowed, true);
    t.ok((r.body.index as number) > 0, 'decided by the leader through the log');
  });

  await t.test('plain http and an untrusted CA are refused', async (t) => {
    const s = c.spec(leader);
    await t.rejects(fetch(`http://${s.http}/healthz`, { signal: AbortSignal.timeout(3000) }));
    const stranger = new Client({ endpoints, timeoutMs: 800 });
    t.teardown(() => stranger.close());
    await t.rejects(stranger.check('x'), { code: 'unavailable' }, 'no CA: the certificate fails');
  });

  await t.test('the drl CLI: --tls-ca (or DRL_TLS_CA) with https endpoints', async (t) => {
    const base = ['--endpoints', endpoints.join(','), '--json'];
    const ok = await cli([
      ...base,
      '--tls-ca',
      certs.node.ca,
      'allow',
      'cli-k',
      '--limit',
      '1',
      '--window-ms',
      '60000',
    ]);
    t.equal(ok.code, 0, ok.err);
    t.equal(JSON.parse(ok.out).allowed, true);
    const status = await cli([...base, 'status'], { DRL_TLS_CA: certs.node.ca });
    t.equal(status.code, 0, status.err);
    t.equal(JSON.parse(status.out).filter((a: { status?: unknown }) => a.status).length, 3);
    const noCa = await cli([...base, '--timeout-ms', '800', 'keys', 'get', 'default', 'cli-k']);
    t.equal(noCa.code, 1, 'without the CA: exit 1');
    t.equal(noCa.err.trim().split('\n').length, 1, 'one line on stderr');
    t.match(noCa.err, /^error: unavailable/);
  });

  await t.test('Raft links: mutual TLS against the cluster CA', async (t) => {
    const raft = c.spec(leader).raft;
    t.equal(await raftGreeting(raft, certs.node), 'hello', 'a cluster certificate gets the Hello');
    t.equal(await raftGreeting(raft, certs.rogue), 'refused', 'another CA is refused by TLS');
  });
});
