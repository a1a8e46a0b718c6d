import net from 'node:net';
import t, { type Test } from 'tap';
import { FrameDecoder } from '../../src/raft/transport/frame.js';
import {
  authFrame,
  clientMac,
  newNonce,
  noteMac,
  parseAuth,
  parseHello,
} from '../../src/raft/transport/handshake.js';
import { TcpTransport } from '../../src/raft/transport/index.js';
import type { TransportOptions } from '../../src/raft/transport/transport-types.js';
import type { Message } from '../../src/raft/types.js';
import { captureLogger, waitFor } from './helpers.js';

const SECRET = 'test-cluster-secret';

function msg(from: string, to: string, index: number): Message {
  const data = new Uint8Array(64).fill(index % 251);
  return {
    type: 4,
    from,
    to,
    term: 3,
    logTerm: 3,
    index,
    commit: Math.max(0, index - 1),
    entries: [{ index: index + 1, term: 3, type: 0, data }],
    reject: false,
    rejectHint: 0,
    context: 0,
    snapshot: null,
  };
}

interface Node {
  transport: TcpTransport;
  inbox: Message[];
  address: string;
  lines: string[];
}

async function node(
  t: Test,
  id: string,
  peers: Record<string, string>,
  extra: Partial<TransportOptions> = {},
): Promise<Node> {
  const inbox: Message[] = [];
  const { logger, lines } = captureLogger();
  const transport = new TcpTransport({
    id,
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    secret: SECRET,
    logger,
    onMessage: (m) => inbox.push(m),
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    ...extra,
  });
  const bound = await transport.start();
  t.teardown(() => transport.stop());
  return { transport, inbox, address: `127.0.0.1:${bound.port}`, lines };
}

t.test('authenticated peers exchange messages, each on its own outbound link', async (t) => {
  const b = await node(t, 'b', {});
  const a = await node(t, 'a', { b: b.address });
  b.transport.setPeer('a', a.address);
  await waitFor(() => a.transport.send(msg('a', 'b', 1)) && b.inbox.length > 0, 5000, 'a -> b');
  await waitFor(() => b.transport.send(msg('b', 'a', 2)) && a.inbox.length > 0, 5000, 'b -> a');
  const got = b.inbox[0]!;
  t.equal(got.from, 'a');
  t.equal(got.entries[0]?.data.length, 64);
  t.equal(a.inbox[0]?.index, 2);
  t.equal(a.transport.getStats().authFailures, 0);
  t.ok(a.transport.getStats().sentBytes > 64);
});

t.test('flush() writes queued frames at once instead of on the next turn', async (t) => {
  const b = await node(t, 'b', {});
  const a = await node(t, 'a', { b: b.address });
  await waitFor(() => a.transport.send(msg('a', 'b', 1)) && b.inbox.length > 0, 5000, 'a -> b');
  // Let the retries waitFor queued go out first.
  await new Promise((r) => setImmediate(r));
  const before = a.transport.getStats().sentMessages;
  t.ok(a.transport.send(msg('a', 'b', 2)));
  t.equal(a.transport.getStats().sentMessages, before, 'queued: written on the next turn');
  // The leader's case: flush, then a synchronous fsync blocks the loop; the frame is already
  // handed to the socket.
  a.transport.flush();
  t.equal(a.transport.getStats().sentMessages, before + 1, 'written by flush()');
  await waitFor(() => b.inbox.some((m) => m.index === 2), 5000, 'the flushed message arrives');
});

t.test('a peer without the secret is refused and logged', async (t) => {
  const a = await node(t, 'a', {});
  const evil = await node(t, 'mallory', { a: a.address }, { secret: 'wrong-secret' });
  await waitFor(() => a.transport.getStats().authFailures >= 1, 5000, 'refusal');
  for (let i = 0; i < 20; i++) evil.transport.send(msg('mallory', 'a', i));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(a.inbox.length, 0, 'nothing from the refused peer is delivered');
  const refusal = a.lines.find((l) => l.includes('refused inbound peer'));
  t.ok(refusal, 'refusal logged');
  t.match(refusal, 'mallory');
  t.notMatch(refusal, SECRET);
});

t.test('a client refuses a server that cannot prove the secret', async (t) => {
  const fake = await node(t, 'b', {}, { secret: 'other' });
  const a = await node(t, 'a', { b: fake.address });
  await waitFor(
    () => a.transport.getStats().authFailures + fake.transport.getStats().authFailures >= 1,
  );
  t.equal(a.transport.getStats().connects, 0);
});

t.test('a dialed address that answers with another id is refused', async (t) => {
  const c = await node(t, 'c', {});
  const a = await node(t, 'a', { b: c.address });
  await waitFor(() => a.transport.getStats().authFailures >= 1, 5000, 'wrong-id refusal');
  t.ok(a.lines.some((l) => l.includes('expected peer b')));
});

t.test('reconnects after the peer restarts on the same port', async (t) => {
  const b1 = await node(t, 'b', {});
  const a = await node(t, 'a', { b: b1.address });
  await waitFor(() => a.transport.send(msg('a', 'b', 1)) && b1.inbox.length > 0, 5000, 'first');
  const port = Number(b1.address.split(':')[1]);
  await b1.transport.stop();
  const b2 = await node(t, 'b', {}, { listen: { host: '127.0.0.1', port } });
  await waitFor(
    () => a.transport.send(msg('a', 'b', 2)) && b2.inbox.length > 0,
    5000,
    'after restart',
  );
  t.equal(b2.inbox[0]?.from, 'a');
  t.ok(a.transport.getStats().connects >= 2);
});

t.test('a peer address change reconnects to the new address', async (t) => {
  const b = await node(t, 'b', {});
  const a = await node(t, 'a', { b: '127.0.0.1:1' });
  t.notOk(a.transport.send(msg('a', 'b', 1)) && b.inbox.length > 0);
  a.transport.setPeer('b', b.address);
  await waitFor(
    () => a.transport.send(msg('a', 'b', 2)) && b.inbox.length > 0,
    5000,
    'new address',
  );
  t.equal(b.inbox[0]?.from, 'a');
});

t.test('the outbound queue is bounded and drops are counted', async (t) => {
  const b = await node(t, 'b', {});
  const a = await node(t, 'a', { b: b.address }, { queueBytesMax: 4096 });
  await waitFor(() => a.transport.send(msg('a', 'b', 0)) && b.inbox.length > 0, 5000, 'connected');
  const before = a.transport.getStats().droppedMessages;
  const total = 2000;
  let accepted = 0;
  for (let i = 1; i <= total; i++) if (a.transport.send(msg('a', 'b', i))) accepted++;
  const dropped = a.transport.getStats().droppedMessages - before;
  t.ok(dropped > 0, `dropped ${dropped}`);
  t.equal(accepted + dropped, total);
  t.ok(accepted * 70 < 4096 + 200, 'no more than the bound was queued');
  await new Promise((r) => setTimeout(r, 50));
  const warmup = b.inbox.filter((m) => m.index === 0).length;
  await waitFor(() => b.inbox.length === warmup + accepted, 5000, 'accepted messages delivered');
  t.same(
    b.inbox.slice(warmup).map((m) => m.index),
    Array.from({ length: accepted }, (_, i) => i + 1),
  );
});

t.test('a node with no address for a peer learns it from the peer handshake', async (t) => {
  const joiner = await node(t, 'j', {});
  const member = await node(t, 'm', { j: joiner.address });
  await waitFor(
    () => joiner.transport.send(msg('j', 'm', 5)) && member.inbox.length > 0,
    5000,
    'dial back',
  );
  t.equal(member.inbox[0]?.from, 'j');
  t.ok(joiner.lines.some((l) => l.includes('learned peer address')));
  joiner.transport.removePeer('m');
  // close() flushes what was already queued; count from after that.
  await new Promise((r) => setTimeout(r, 100));
  const before = member.inbox.length;
  t.notOk(joiner.transport.send(msg('j', 'm', 6)), 'a removed peer gets nothing');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(member.inbox.length, before);
});

t.test(
  'the handshake note of a peer reaches the node it dials; older frames carry none',
  async (t) => {
    const heard: Array<[string, string]> = [];
    const b = await node(t, 'b', {}, { onPeerMeta: (id, meta) => heard.push([id, meta]) });
    const a = await node(t, 'a', { b: b.address }, { advertiseMeta: '{"http":"127.0.0.1:8001"}' });
    await waitFor(() => a.transport.send(msg('a', 'b', 1)) && b.inbox.length > 0, 5000, 'link up');
    t.same(heard, [['a', '{"http":"127.0.0.1:8001"}']]);

    const fields = { clientId: 'a', address: '127.0.0.1:9001', nonce: Buffer.alloc(16, 1) };
    const mac = Buffer.alloc(32, 2);
    const metaMac = Buffer.alloc(32, 3);
    const frameOf = (buf: Buffer) => ({ kind: buf[5]!, buf });
    const withMeta = parseAuth(frameOf(authFrame({ ...fields, mac, meta: 'm', metaMac })));
    t.same(withMeta.meta, 'm');
    t.same(withMeta.metaMac, metaMac);
    const none = authFrame({ ...fields, mac, meta: '', metaMac: null });
    const parsedNone = parseAuth(frameOf(none));
    t.same([parsedNone.meta, parsedNone.metaMac], ['', null], 'no note (older peers): none');
    const unsigned = parseAuth(frameOf(authFrame({ ...fields, mac, meta: 'm', metaMac: null })));
    t.same([unsigned.meta, unsigned.metaMac], ['m', null], 'a note without its MAC');
    const noted = authFrame({ ...fields, mac, meta: 'm', metaMac });
    t.equal(noted.length - none.length, 2 + 1 + 32, 'note then its MAC (varint lengths)');
    t.same(noted.subarray(4, none.length), none.subarray(4), 'the fields before it unchanged');
  },
);

/**
 * Dials `address` as `clientId` with the real secret and sends an Auth frame carrying `meta`
 * with the MAC `signNote` gives it (null: none); resolves once the server answered AuthOk.
 */
async function dialWithNote(
  address: string,
  clientId: string,
  serverId: string,
  meta: string,
  signNote: (nonceS: Buffer, nonceC: Buffer) => Buffer | null,
): Promise<net.Socket> {
  const [host, port] = address.split(':') as [string, string];
  const socket = net.connect(Number(port), host);
  const decoder = new FrameDecoder(1 << 20);
  const nonce = newNonce();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    let step = 0;
    socket.on('data', (chunk) =>
      decoder.push(chunk, (frame) => {
        if (step++ > 0) {
          resolve(); // AuthOk: the server accepted the handshake
          return;
        }
        const hello = parseHello(frame);
        const mac = clientMac(SECRET_BYTES, hello.nonce, nonce, clientId, serverId, address);
        const metaMac = signNote(hello.nonce, nonce);
        socket.write(authFrame({ clientId, address, nonce, mac, meta, metaMac }));
      }),
    );
  });
  return socket;
}

const SECRET_BYTES = Buffer.from(SECRET);

t.test('a handshake note without a valid MAC of its own is ignored', async (t) => {
  const heard: Array<[string, string]> = [];
  const b = await node(t, 'b', {}, { onPeerMeta: (id, meta) => heard.push([id, meta]) });
  const meta = '{"http":"10.6.6.6:80"}';
  const cases: Array<[string, (nonceS: Buffer, nonceC: Buffer) => Buffer | null]> = [
    ['unsigned (the one version that sent notes so)', () => null],
    [
      'a MAC of another note',
      (s, c) => noteMac(SECRET_BYTES, s, c, 'x', 'b', '{"http":"1.1.1.1:1"}'),
    ],
    ['a MAC with another secret', (s, c) => noteMac(Buffer.from('other'), s, c, 'x', 'b', meta)],
  ];
  for (const [name, sign] of cases) {
    const socket = await dialWithNote(b.address, 'x', 'b', meta, sign);
    socket.destroy();
    t.same(heard, [], `${name}: accepted as a peer, the note ignored`);
  }
  t.equal(b.lines.filter((l) => l.includes('ignored a handshake note')).length, cases.length);
  const good = await dialWithNote(b.address, 'x', 'b', meta, (s, c) =>
    noteMac(SECRET_BYTES, s, c, 'x', 'b', meta),
  );
  good.destroy();
  t.same(heard, [['x', meta]], 'the note signed with the secret is heard');
});
