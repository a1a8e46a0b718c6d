import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FakeService } from '../api/fake-service.js';
import { closedPort, group, type Node, startNode } from '../client/helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns the real entry point; async so this process's servers can answer it. */
function drl(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: root,
        env: { ...process.env, DRL_ENDPOINTS: '', DRL_TOKEN: '', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

type Asserts = Pick<typeof t, 'not' | 'equal' | 'match'>;

function oneErrorLine(t: Asserts, r: Run, pattern: RegExp): void {
  t.not(r.code, 0, 'non-zero exit');
  t.equal(r.stdout, '', 'nothing on stdout');
  t.equal(r.stderr.split('\n').filter((l) => l.length > 0).length, 1, 'exactly one stderr line');
  t.match(r.stderr, pattern);
}

let n1: Node;
let n2: Node;
let env: Record<string, string>;

t.before(async () => {
  n1 = await startNode(
    'n1',
    new FakeService({ id: 'n1', rules: { default: { limit: 1, windowMs: 1000 } } }),
  );
  n2 = await startNode('n2', new FakeService({ id: 'n2' }));
  group([n1, n2], n1);
  env = { DRL_ENDPOINTS: n2.addr };
});
t.teardown(async () => {
  await n1.app.close();
  await n2.app.close();
});

t.test('allow: human line, then --json, decided by the leader through a follower', async (t) => {
  const first = await drl(env, 'allow', 'alice');
  t.equal(first.code, 0);
  t.equal(first.stderr, '');
  t.match(
    first.stdout,
    /^allowed {2}remaining=0\/1 {2}resetMs=1000 {2}index=\d+ {2}ts=1700000000000\n$/,
  );
  const second = await drl(env, '--json', 'allow', 'alice');
  t.equal(second.code, 0, 'a denial is not an error');
  t.match(JSON.parse(second.stdout), {
    allowed: false,
    limit: 1,
    remaining: 0,
    retryAfterMs: 1000,
  });
  const inline = await drl(
    {},
    'allow',
    'bob',
    '--endpoints',
    n1.addr,
    '--limit',
    '5',
    '--window-ms',
    '100',
    '--cost',
    '2',
    '--json',
  );
  t.match(JSON.parse(inline.stdout), { allowed: true, limit: 5, remaining: 3 });
  t.match(n1.service.calls.at(-1), { key: 'bob', limit: 5, windowMs: 100, cost: 2 });
});

t.test('status lists every node with lag, discovering members from one endpoint', async (t) => {
  const r = await drl(env, 'status');
  t.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^ID\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+LEADER/);
  t.equal(lines.length, 3);
  const commit = n1.service.index;
  t.ok(
    lines.some((l) =>
      new RegExp(`^n1\\s+leader\\s+3\\s+${commit}\\s+${commit}\\s+0\\s+n1`).test(l),
    ),
  );
  t.ok(lines.some((l) => new RegExp(`^n2\\s+follower\\s+3\\s+0\\s+0\\s+${commit}\\s+n1`).test(l)));
  const json = await drl(env, 'status', '--json');
  const parsed = JSON.parse(json.stdout) as Array<{ status: { id: string } }>;
  t.same(parsed.map((a) => a.status.id).sort(), ['n1', 'n2']);
});

t.test('rules set/get/delete and keys get/override', async (t) => {
  const set = await drl(
    env,
    'rules',
    'set',
    'api',
    '--limit',
    '3',
    '--window-ms',
    '2000',
    '--algorithm',
    'token-bucket',
    '--burst',
    '1',
  );
  t.equal(set.code, 0);
  t.match(set.stdout, /^rule api set \(index \d+\)\n$/);
  t.same(n1.service.rules.get('api'), {
    limit: 3,
    windowMs: 2000,
    algorithm: 'token-bucket',
    burst: 1,
  });
  const list = await drl(env, 'rules', 'get');
  t.match(
    list.stdout,
    /^NAME\s+LIMIT\s+WINDOW_MS\s+ALGORITHM\s+BURST\napi\s+3\s+2000\s+token-bucket\s+1\ndefault\s+1\s+1000\s+sliding-log\s+-\n$/,
  );
  const one = await drl(env, '--json', 'rules', 'get', 'api');
  t.same(JSON.parse(one.stdout), {
    name: 'api',
    limit: 3,
    windowMs: 2000,
    algorithm: 'token-bucket',
    burst: 1,
  });
  const ov = await drl(env, 'keys', 'override', 'api', 'k1', '--limit', '1', '--window-ms', '500');
  t.equal(ov.code, 0);
  await drl(env, 'allow', 'k1', '--rule', 'api');
  const usage = await drl(env, 'keys', 'get', 'api', 'k1');
  t.equal(usage.stdout, 'used=1  limit=1  remaining=0  resetMs=500\n');
  const del = await drl(env, 'rules', 'delete', 'api');
  t.equal(del.code, 0);
  t.notOk(n1.service.rules.has('api'));
  oneErrorLine(t, await drl(env, 'rules', 'delete', 'api'), /^error: not_found: /);
});

t.test('cluster add, transfer, remove', async (t) => {
  const add = await drl(
    env,
    'cluster',
    'add',
    'n3',
    '--raft',
    '127.0.0.1:9003',
    '--http',
    '127.0.0.1:8003',
  );
  t.equal(add.code, 0);
  t.match(add.stdout, /^member n3 added \(index \d+\)\n$/);
  t.match(n1.service.members.at(-1), { id: 'n3', raft: '127.0.0.1:9003', http: '127.0.0.1:8003' });
  const transfer = await drl(env, 'cluster', 'transfer', 'n3');
  t.equal(transfer.stdout, 'leader is now n3\n');
  const remove = await drl(env, '--json', 'cluster', 'remove', 'n3');
  t.match(JSON.parse(remove.stdout), { ok: true });
  t.notOk(n1.service.members.some((m) => m.id === 'n3'));
});

t.test('errors: one stderr line and a non-zero exit', async (t) => {
  const dead = await closedPort();
  const cases: Array<[Record<string, string>, string[], RegExp]> = [
    [env, ['allow', 'a', '--cost', 'x'], /^error: option '--cost <n>' argument 'x' is invalid/],
    [env, ['allow', 'a', '--cost', '0'], /^error: invalid_cost: /],
    [env, ['allow', 'a', '--limit', '3'], /^error: invalid_window: /],
    [env, ['allow', 'a', '--rule', 'nope'], /^error: unknown_rule: /],
    [env, ['allow'], /^error: missing required argument 'key'/],
    [env, ['frobnicate'], /^error: unknown command 'frobnicate'/],
    [env, ['cluster'], /^error: missing or unknown subcommand/],
    [
      env,
      ['rules', 'set', 'x', '--limit', '1'],
      /^error: required option '--window-ms <ms>' not specified/,
    ],
    [env, ['allow', 'a', '--bogus'], /^error: unknown option '--bogus'/],
    [{ DRL_ENDPOINTS: dead }, ['allow', 'a', '--timeout-ms', '300'], /^error: unavailable: /],
    [{ DRL_ENDPOINTS: dead }, ['status', '--timeout-ms', '300'], /^error: unavailable: /],
  ];
  // Independent runs: spawn them together (each pays tsx's start-up).
  const runs = await Promise.all(cases.map(([e, args]) => drl(e, ...args)));
  runs.forEach((r, i) => {
    const [, args, pattern] = cases[i]!;
    t.test(args.join(' '), async (t) => oneErrorLine(t, r, pattern));
  });
});

t.test('--help everywhere exits 0 with usage on stdout', async (t) => {
  const all = [
    ['--help'],
    ['allow', '--help'],
    ['rules', 'set', '--help'],
    ['cluster', '--help'],
    ['keys', 'get', '--help'],
    ['status', '--help'],
  ];
  const runs = await Promise.all(all.map((args) => drl(env, ...args)));
  for (const [i, args] of all.entries()) {
    const r = runs[i]!;
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, /^Usage: drl/);
    t.equal(r.stderr, '');
  }
});

t.test('token from DRL_TOKEN or --token reaches a protected node', async (t) => {
  const { buildApi } = await import('../../src/api/index.js');
  const service = new FakeService({ id: 'p1', rules: { default: { limit: 5, windowMs: 1000 } } });
  const app = buildApi(service, { token: 'tok' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
  oneErrorLine(t, await drl({ DRL_ENDPOINTS: addr }, 'allow', 'a'), /^error: unauthorized: /);
  t.equal((await drl({ DRL_ENDPOINTS: addr, DRL_TOKEN: 'tok' }, 'allow', 'a')).code, 0);
  t.equal((await drl({ DRL_ENDPOINTS: addr }, '--token', 'tok', 'allow', 'a')).code, 0);
});
