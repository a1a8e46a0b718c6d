// `drl serve --test-mode --trace-entries` records, per log index, the driver's Raft stages on
// every node and the /allow route's HTTP points on the leader, and GET /test/entry-trace
// returns them (the plumbing of `npm run bench -- --trace`). Refused without --test-mode;
// without the flag the route does not exist.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { TraceStage } from '../../src/raft/driver/entry-trace.js';
import { Cluster, cliPath, freePort } from './cluster-harness.js';

interface Trace {
  id: string;
  lo: number;
  hi: number;
  stages: Record<string, number[]>;
  events: [string, number, number][];
}

t.test('a traced group records every stage of an allow, by log index', async (t) => {
  const c = await Cluster.create({ extraArgs: () => ['--test-mode', '--trace-entries'] });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  const indexes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await c.request(leader, 'POST', '/allow', {
      key: `k${i}`,
      limit: 5,
      windowMs: 60_000,
    });
    t.equal(r.status, 200);
    indexes.push(r.body.index as number);
  }
  const lo = Math.min(...indexes);
  const hi = Math.max(...indexes);
  // Followers learn the last commit with the next heartbeat or App.
  const fetchTrace = async (id: string): Promise<Trace> => {
    const r = await c.request(id, 'GET', `/test/entry-trace?lo=${lo}&hi=${hi}`);
    t.equal(r.status, 200, `${id}: route answers`);
    return r.body as unknown as Trace;
  };
  const lt = await fetchTrace(leader);
  t.equal(lt.id, leader);
  t.equal(lt.lo, lo);
  t.equal(lt.hi, hi);
  const at = (tr: Trace, key: string | number, index: number) =>
    tr.stages[String(key)]?.[index - tr.lo] ?? 0;
  for (const index of indexes) {
    const entered = at(lt, 'http.entered', index);
    const proposed = at(lt, TraceStage.proposed, index);
    const ready = at(lt, TraceStage.ready, index);
    const persisted = at(lt, TraceStage.persisted, index);
    const committed = at(lt, TraceStage.committed, index);
    const applied = at(lt, TraceStage.applied, index);
    const decided = at(lt, 'http.decided', index);
    const written = at(lt, 'http.written', index);
    const order = [entered, proposed, ready, persisted, committed, applied, decided, written];
    t.ok(
      order.every((x) => x > 0),
      `${index}: every leader stage recorded (${order.join(', ')})`,
    );
    t.ok(
      order.every((x, i) => i === 0 || x >= order[i - 1]!),
      `${index}: stages in path order`,
    );
    const acks = Object.keys(lt.stages).filter((k) => k.startsWith(`${TraceStage.acked}:`));
    t.ok(
      acks.some((k) => (lt.stages[k]![index - lo] ?? 0) >= ready),
      `${index}: an ack stepped`,
    );
  }
  t.ok(
    lt.events.some(([kind, s, e]) => kind === 'fsync' && e >= s && s > 0),
    'fsync events',
  );
  const follower = c.alive().find((id) => id !== leader)!;
  const ft = await fetchTrace(follower);
  for (const index of indexes) {
    const recv = at(ft, TraceStage.received, index);
    const persisted = at(ft, TraceStage.persisted, index);
    const resp = at(ft, TraceStage.respSent, index);
    t.ok(
      recv > 0 && persisted >= recv && resp >= persisted,
      `${follower} ${index}: received, persisted, AppResp`,
    );
    t.equal(at(ft, 'http.entered', index), 0, 'no HTTP points on a follower');
  }
  const bad = await c.request(leader, 'GET', `/test/entry-trace?lo=${hi}&hi=${lo - 1}`);
  t.equal(bad.status, 400, 'hi < lo is refused');
  const missing = await c.request(leader, 'GET', '/test/entry-trace?lo=x&hi=2');
  t.equal(missing.status, 400, 'a non-index is refused');
});

t.test('without --trace-entries there is no trace route', async (t) => {
  const c = await Cluster.create({ nodes: 1, extraArgs: () => ['--test-mode'] });
  t.teardown(() => c.stopAll());
  const leader = await c.waitLeader();
  const r = await c.request(leader, 'GET', '/test/entry-trace?lo=1&hi=2');
  t.equal(r.status, 404);
});

t.test('--trace-entries is refused without --test-mode', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drl-trace-flag-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const args = [cliPath, 'serve', '--id', 'n1', '--data', join(dir, 'data')];
  args.push('--http', `127.0.0.1:${await freePort()}`, '--raft', `127.0.0.1:${await freePort()}`);
  args.push('--peers', 'n1=127.0.0.1:1', '--trace-entries');
  const err = await promisify(execFile)(process.execPath, args, { timeout: 20_000 }).then(
    () => null,
    (e: { code: number; stderr: string }) => e,
  );
  t.ok(err, 'exits with an error');
  t.equal(err?.code, 1);
  t.match(err?.stderr.trim(), /^error: invalid_argument: --trace-entries needs --test-mode$/);
});
