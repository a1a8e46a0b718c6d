import t from 'tap';
import type { AllowRequest, AllowResponse } from '../../src/api/service.js';
import { Client, DrlError } from '../../src/client/index.js';
import { FakeService } from '../api/fake-service.js';
import { closedPort, group, startNode } from './helpers.js';

const rules = { default: { limit: 2, windowMs: 60_000 } };

t.test('discovers the leader through a follower and sends to it directly', async (t) => {
  const n1 = await startNode('n1', new FakeService({ id: 'n1', rules }));
  const n2 = await startNode('n2', new FakeService({ id: 'n2', rules }));
  group([n1, n2], n1);
  const client = new Client({ endpoints: [n2.addr] });
  t.teardown(async () => {
    await client.close();
    await n1.app.close();
    await n2.app.close();
  });
  const d = await client.check('alice');
  t.equal(d.allowed, true);
  t.equal(d.remaining, 1);
  t.equal(d.index, 1);
  t.equal(typeof d.ts, 'number');
  t.notOk(d.degraded);
  t.equal(client.leader, `http://${n1.addr}`);
  t.equal(n1.service.calls.length, 1);
  t.equal(n2.service.calls.length, 0, 'the follower did not even forward');
  t.equal(await client.allow('alice'), true);
  t.equal(await client.allow('alice'), false);
});

t.test('fails over past a dead endpoint and after the leader dies', async (t) => {
  const dead = await closedPort();
  const n1 = await startNode('n1', new FakeService({ id: 'n1', rules }));
  const n2 = await startNode('n2', new FakeService({ id: 'n2', rules }));
  group([n1, n2], n1);
  const client = new Client({ endpoints: [dead, n1.addr, n2.addr], timeoutMs: 3000 });
  t.teardown(async () => {
    await client.close();
    await n2.app.close();
  });
  t.equal(await client.allow('k'), true);
  t.equal(client.leader, `http://${n1.addr}`);
  await n1.app.close();
  group([n2], n2);
  t.equal(await client.allow('k'), true, 'answered by the new leader');
  t.equal(client.leader, `http://${n2.addr}`);
  t.equal(n2.service.calls.length, 1);
});

/** Applies the decision, then answers 503 the first time: an ambiguous failure. */
class LosesFirstAnswer extends FakeService {
  lost = 0;
  override async allow(req: AllowRequest): Promise<AllowResponse> {
    const d = await super.allow(req);
    if (this.lost++ === 0) throw new DrlError('unavailable', 'commit outcome unknown');
    return d;
  }
}

t.test('a retry reuses the requestId, so the decision counts once', async (t) => {
  const service = new LosesFirstAnswer({ id: 'n1', rules });
  const n1 = await startNode('n1', service);
  group([n1], n1);
  const client = new Client({ endpoints: n1.addr });
  t.teardown(async () => {
    await client.close();
    await n1.app.close();
  });
  const d = await client.check('bob');
  t.equal(d.allowed, true);
  t.equal(service.calls.length, 2, 'sent twice');
  const [first, second] = service.calls;
  t.type(first?.requestId, 'string');
  t.equal(first?.requestId, second?.requestId, 'with one requestId');
  t.equal((await client.usage('default', 'bob')).used, 1, 'counted once');
  const next = await client.check('bob');
  t.not(next.index, d.index);
  t.not(service.calls[2]?.requestId, first?.requestId, 'a new call gets a new id');
});

t.test('bad input throws a typed error at once, even in failOpen mode', async (t) => {
  const n1 = await startNode('n1', new FakeService({ id: 'n1', rules }));
  group([n1], n1);
  const client = new Client({ endpoints: [n1.addr], onUnavailable: 'failOpen' });
  t.teardown(async () => {
    await client.close();
    await n1.app.close();
  });
  await t.rejects(client.check(''), { code: 'invalid_key', status: 400 });
  await t.rejects(client.check('a', { cost: 0 }), { code: 'invalid_cost' });
  await t.rejects(client.check('a', { rule: 'none' }), { code: 'unknown_rule' });
  t.equal(client.degradedTotal, 0);
  t.equal(n1.service.calls.length, 1, 'only unknown_rule reached the service, and was not retried');
});

t.test('unavailable: throw, failOpen and failClosed against a closed port', async (t) => {
  const dead = await closedPort();
  const thrower = new Client({ endpoints: [dead], timeoutMs: 300 });
  const err = await thrower.check('k').catch((e: unknown) => e);
  t.ok(err instanceof DrlError);
  t.equal((err as DrlError).code, 'unavailable');
  await thrower.close();

  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m) };
  const open = new Client({ endpoints: [dead], timeoutMs: 200, onUnavailable: 'failOpen', logger });
  const d = await open.check('k', { limit: 5, windowMs: 1000 });
  t.match(d, {
    allowed: true,
    degraded: true,
    index: null,
    limit: 5,
    remaining: 5,
    retryAfterMs: 0,
  });
  t.type(d.ts, 'number');
  t.equal(await open.allow('k'), true);
  t.equal(open.degradedTotal, 2);
  t.equal(warnings.length, 1, 'warned once per interval');
  t.match(warnings[0], /failOpen.*unavailable/);
  await open.close();

  const closed = new Client({
    endpoints: dead,
    timeoutMs: 200,
    onUnavailable: 'failClosed',
    logger,
  });
  const c = await closed.check('k');
  t.match(c, { allowed: false, degraded: true, index: null, remaining: 0, retryAfterMs: null });
  t.equal(closed.degradedTotal, 1);
  await closed.close();
});

t.test('admin calls: rules, overrides, usage, cluster', async (t) => {
  const n1 = await startNode('n1', new FakeService({ id: 'n1' }));
  group([n1], n1);
  const client = new Client({ endpoints: `http://${n1.addr}/` });
  t.teardown(async () => {
    await client.close();
    await n1.app.close();
  });
  t.same(await client.setRule('api', { limit: 3, windowMs: 1000 }), { ok: true, index: 1 });
  t.same(await client.rules(), { api: { limit: 3, windowMs: 1000 } });
  t.same(await client.rule('api'), { name: 'api', limit: 3, windowMs: 1000 });
  await client.setOverride('api', 'a/b', { limit: 1, windowMs: 1000 });
  t.equal((await client.check('a/b', { rule: 'api' })).limit, 1);
  t.same(await client.usage('api', 'a/b'), { used: 1, limit: 1, remaining: 0, resetMs: 1000 });
  await client.deleteOverride('api', 'a/b');
  await client.deleteRule('api');
  await t.rejects(client.rule('api'), { code: 'not_found' });
  const s = await client.cluster(n1.addr);
  t.equal(s.id, 'n1');
  t.equal(s.role, 'leader');
  await client.addMember({ id: 'n9', raft: '127.0.0.1:9009' });
  t.ok(n1.service.members.some((m) => m.id === 'n9'));
  await client.removeMember('n9');
  t.notOk(n1.service.members.some((m) => m.id === 'n9'));
});

t.test('constructor rejects bad options with typed errors', async (t) => {
  t.throws(() => new Client({ endpoints: [] }), { code: 'invalid_argument' });
  t.throws(() => new Client({ endpoints: 'a:1', timeoutMs: 0 }), { code: 'invalid_argument' });
});
