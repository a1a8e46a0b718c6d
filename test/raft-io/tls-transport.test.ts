import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { TcpTransport } from '../../src/raft/transport/index.js';
import { tlsSocketFactory } from '../../src/raft/transport/tls-socket-factory.js';
import type { Message } from '../../src/raft/types.js';
import { waitFor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'drl-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate used as its own CA (enough for a 2-node loopback test). */
function selfSigned(name: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

function msg(from: string, to: string): Message {
  return {
    type: 6,
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
    context: 7,
    snapshot: null,
  };
}

t.test('messages flow over mutual TLS; a peer with another CA is refused', async (t) => {
  const cluster = selfSigned('cluster');
  const tlsOpts = { key: cluster.key, cert: cluster.cert, ca: cluster.cert };
  const inbox: Message[] = [];
  const logger = pino({ level: 'silent' });
  const common = { secret: 's3', logger, reconnectMinMs: 10, reconnectMaxMs: 50 };
  const b = new TcpTransport({
    ...common,
    id: 'b',
    listen: { host: '127.0.0.1', port: 0 },
    peers: {},
    onMessage: (m) => inbox.push(m),
    socketFactory: tlsSocketFactory(tlsOpts),
  });
  const { port } = await b.start();
  t.teardown(() => b.stop());
  const a = new TcpTransport({
    ...common,
    id: 'a',
    listen: { host: '127.0.0.1', port: 0 },
    peers: { b: `127.0.0.1:${port}` },
    onMessage: () => {},
    socketFactory: tlsSocketFactory(tlsOpts),
  });
  await a.start();
  t.teardown(() => a.stop());
  await waitFor(() => a.send(msg('a', 'b')) && inbox.length > 0, 5000, 'tls delivery');
  t.equal(inbox[0]?.context, 7);

  const stranger = selfSigned('stranger');
  const s = new TcpTransport({
    ...common,
    id: 's',
    listen: { host: '127.0.0.1', port: 0 },
    peers: { b: `127.0.0.1:${port}` },
    onMessage: () => {},
    socketFactory: tlsSocketFactory({ ...stranger, ca: stranger.cert }),
  });
  await s.start();
  t.teardown(() => s.stop());
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 5; i++) s.send(msg('s', 'b'));
  await new Promise((r) => setTimeout(r, 100));
  t.ok(
    inbox.every((m) => m.from === 'a'),
    'nothing from the other CA',
  );
  t.equal(s.getStats().connects, 0);
});
