// Every `drl` command against a real 3-node group (spawned `node dist/src/cli/main.js`):
// human and --json output, and each error path: one line on stderr and a non-zero exit.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { Cluster, cliPath, freePort } from './cluster-harness.js';

const run = promisify(execFile);

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function drl(args: string[]): Promise<Ran> {
  try {
    const r = await run(process.execPath, [cliPath, ...args], { timeout: 30_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

function failsWith(t: Test, r: Ran, code: number, pattern: RegExp): void {
  t.equal(r.code, code, `exit ${code} (${r.err.trim()})`);
  t.equal(r.err.trim().split('\n').length, 1, 'exactly one line on stderr');
  t.match(r.err, pattern);
  t.equal(r.out, '', 'nothing on stdout');
}

t.test('drl commands on a real group', async (t) => {
  const c = await Cluster.create();
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  const g = ['--endpoints', c.specs.map((s) => s.http).join(',')];

  const set = (name: string, ...flags: string[]) => drl([...g, 'rules', 'set', name, ...flags]);

  await t.test('rules set | get | delete', async (t) => {
    const [plain, json, bad] = await Promise.all([
      set('default', '--limit', '3', '--window-ms', '600000'),
      set('tmp', '--limit', '9', '--window-ms', '1000', '--algorithm', 'sliding-counter', '--json'),
      set('x', '--limit', '0', '--window-ms', '1000'),
    ]);
    t.equal(plain.code, 0, plain.err);
    t.match(plain.out, /^rule default set \(index \d+\)\n$/);
    t.match(JSON.parse(json.out), { index: Number });
    failsWith(t, bad, 1, /^error: invalid_limit: /);
    const [all, one, oneJson] = await Promise.all([
      drl([...g, 'rules', 'get']),
      drl([...g, 'rules', 'get', 'default']),
      drl([...g, '--json', 'rules', 'get', 'tmp']),
    ]);
    t.match(all.out, /NAME\s+LIMIT\s+WINDOW_MS\s+ALGORITHM/);
    t.match(all.out, /\ndefault\s+3\s+600000\s+sliding-log/);
    t.match(all.out, /\ntmp\s+9\s+1000\s+sliding-counter/);
    t.notMatch(all.out, /\nx\s/, 'the refused rule was not applied');
    t.equal(one.out.trim().split('\n').length, 2, 'one rule: header + row');
    t.match(JSON.parse(oneJson.out), { name: 'tmp', limit: 9, windowMs: 1000 });
    const del = await drl([...g, 'rules', 'delete', 'tmp']);
    t.match(del.out, /^rule tmp deleted/);
    const [gone, delAgain] = await Promise.all([
      drl([...g, 'rules', 'get', 'tmp']),
      drl([...g, 'rules', 'delete', 'tmp']),
    ]);
    failsWith(t, gone, 1, /^error: not_found: /);
    failsWith(t, delAgain, 1, /^error: not_found: /);
  });

  await t.test('allow and keys get', async (t) => {
    const allow = (...args: string[]) => drl([...g, 'allow', ...args]);
    const [a1, a2, a3, a4, cost2, inline, first] = await Promise.all([
      allow('user-1'),
      allow('user-1'),
      allow('user-1'),
      allow('user-1'),
      allow('user-2', '--cost', '2', '--json'),
      allow('user-4', '--limit', '1', '--window-ms', '600000', '--json'),
      allow('user-3', '--request-id', 'rq-1', '--json'),
    ]);
    const four = [a1!, a2!, a3!, a4!];
    t.same(
      four.map((r) => r.code),
      [0, 0, 0, 0],
      'a denial exits 0 too',
    );
    const outs = four.map((r) => r.out).sort();
    t.equal(outs.filter((o) => /^allowed {2}remaining=[0-2]\/3 .*index=\d+/.test(o)).length, 3);
    t.match(outs[3], /^denied {2}remaining=0\/3 .*retryAfterMs=\d+/);
    t.match(JSON.parse(cost2.out), { allowed: true, limit: 3, remaining: 1, index: Number });
    t.match(JSON.parse(inline.out), { allowed: true, limit: 1, remaining: 0 }, 'inline limit');
    t.match(JSON.parse(first.out), { allowed: true, remaining: 2 });
    const again = await allow('user-3', '--request-id', 'rq-1', '--json');
    t.match(JSON.parse(again.out), { allowed: true, remaining: 2 }, 'the retry: same decision');
    const [used3, keys, keysJson, noRule, badCost, badKey, noKey, halfInline] = await Promise.all([
      drl([...g, '--json', 'keys', 'get', 'default', 'user-3']),
      drl([...g, 'keys', 'get', 'default', 'user-1']),
      drl([...g, '--json', 'keys', 'get', 'default', 'user-2']),
      allow('k', '--rule', 'nope'),
      allow('k', '--cost', '0'),
      allow('x'.repeat(513)),
      drl([...g, 'allow']),
      allow('k', '--limit', '5'),
    ]);
    const [inlineUsage, halfInlineUsage] = await Promise.all([
      drl([
        ...g,
        '--json',
        'keys',
        'get',
        'default',
        'user-4',
        '--limit',
        '1',
        '--window-ms',
        '600000',
      ]),
      drl([...g, 'keys', 'get', 'default', 'user-4', '--limit', '1']),
    ]);
    t.match(JSON.parse(inlineUsage.out), { used: 1, limit: 1, remaining: 0 }, 'usage, inline');
    failsWith(t, halfInlineUsage, 1, /^error: invalid_window: --limit needs --window-ms/);
    t.equal(JSON.parse(used3.out).used, 1, 'the retry was not counted again');
    t.match(keys.out, /^used=3 {2}limit=3 {2}remaining=0/);
    t.match(JSON.parse(keysJson.out), { used: 2, limit: 3, remaining: 1 });
    failsWith(t, noRule, 1, /^error: unknown_rule: /);
    failsWith(t, badCost, 1, /^error: invalid_cost: /);
    failsWith(t, badKey, 1, /^error: invalid_key: /);
    failsWith(t, noKey, 2, /^error: missing required argument/);
    failsWith(t, halfInline, 1, /^error: invalid_window: /);
  });

  await t.test('status: a table of every node, and --json', async (t) => {
    const [table, json] = await Promise.all([
      drl([...g, 'status']),
      drl([...g, '--json', 'status']),
    ]);
    t.equal(table.code, 0, table.err);
    const lines = table.out.trim().split('\n');
    t.match(lines[0], /^ID\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+LEADER\s+HTTP$/);
    t.equal(lines.length, 4, 'header + 3 nodes');
    const leaderLines = lines.filter((l) => / leader /.test(l));
    t.equal(leaderLines.length, 1, 'one leader');
    // The leader may have changed since the test began (elections under load): use the table's.
    const current = leaderLines[0]?.split(/\s+/)[0] ?? leader;
    for (const l of lines.slice(1))
      t.match(l, new RegExp(`\\s${current}\\s`), 'all name the leader');
    const nodes = JSON.parse(json.out) as Array<{ status: { id: string; role: string } }>;
    t.same(nodes.map((n) => n.status.id).sort(), ['n1', 'n2', 'n3']);
  });

  await t.test('cluster transfer and the error paths of cluster', async (t) => {
    const to = c.specs.map((s) => s.id).find((id) => id !== leader)!;
    const moved = await drl([...g, 'cluster', 'transfer', to]);
    t.equal(moved.code, 0, moved.err);
    t.equal(moved.out.trim(), `leader is now ${to}`);
    t.equal(await c.waitLeader(), to, 'the group agrees');
    const [existingAdd, unknownRemove, unknownTransfer, badAdd, bare] = await Promise.all([
      drl([...g, 'cluster', 'add', 'n1', '--raft', c.spec('n1').raft]),
      drl([...g, 'cluster', 'remove', 'n9']),
      drl([...g, '--json', 'cluster', 'transfer', 'n9']),
      drl([...g, 'cluster', 'add', 'n4']),
      drl([...g, 'cluster']),
    ]);
    failsWith(t, existingAdd, 1, /^error: invalid_argument: invalid addLearner of n1/);
    failsWith(t, unknownRemove, 1, /^error: not_found: /);
    failsWith(t, unknownTransfer, 1, /^error: invalid_argument: n9 is not a voter/);
    failsWith(t, badAdd, 2, /^error: required option '--raft/);
    failsWith(t, bare, 2, /^error: missing or unknown subcommand/);
  });

  await t.test('usage errors and an unreachable group', async (t) => {
    const dead = `127.0.0.1:${await freePort()}`;
    const [unknownOpt, unknownCmd, down, downStatus] = await Promise.all([
      drl([...g, 'allow', 'k', '--nope']),
      drl([...g, 'frobnicate']),
      drl(['--endpoints', dead, '--timeout-ms', '500', 'allow', 'k']),
      drl(['--endpoints', dead, '--timeout-ms', '500', 'status']),
    ]);
    failsWith(t, unknownOpt, 2, /^error: unknown option '--nope'/);
    failsWith(t, unknownCmd, 2, /^error: unknown command 'frobnicate'/);
    failsWith(t, down, 1, /^error: unavailable: /);
    failsWith(t, downStatus, 1, /^error: unavailable: /);
  });
});
