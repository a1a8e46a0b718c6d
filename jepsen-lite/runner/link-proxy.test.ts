import net from 'node:net';
import t from 'tap';
import { Rng } from '../gen/rng.js';
import { LinkProxy } from './link-proxy.js';
import { partitionLinks } from './partitions.js';
import { ProxyMesh } from './proxy-mesh.js';

function echoServer(): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      s.on('error', () => s.destroy());
      s.pipe(s);
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as net.AddressInfo).port }),
    );
  });
}

/** Sends `text` through the port and resolves what comes back within timeoutMs. */
function roundTrip(port: number, text: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const finish = (): void => {
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        finish();
      }
    });
    socket.on('error', () => {
      clearTimeout(timer);
      finish();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      finish();
    });
    socket.write(text);
  });
}

t.test('a proxy forwards, counts, cuts and heals', async (t) => {
  const { server, port } = await echoServer();
  const proxy = new LinkProxy('a', 'b', port);
  const proxyPort = await proxy.listen();
  t.teardown(async () => {
    await proxy.close();
    server.close();
  });
  t.equal(await roundTrip(proxyPort, 'hello'), 'hello');
  t.equal(proxy.bytesForward, 5);
  t.equal(proxy.bytesBackward, 5);
  proxy.setCut(true);
  t.equal(await roundTrip(proxyPort, 'lost', 200), '', 'nothing passes a cut link');
  t.equal(proxy.bytesForward, 5, 'counters stop while cut');
  proxy.heal();
  t.equal(await roundTrip(proxyPort, 'again'), 'again');
  t.equal(proxy.bytesForward, 10);
});

t.test('a delayed link keeps order and adds latency', async (t) => {
  const { server, port } = await echoServer();
  const proxy = new LinkProxy('a', 'b', port);
  const proxyPort = await proxy.listen();
  t.teardown(async () => {
    await proxy.close();
    server.close();
  });
  proxy.setDelay(60);
  const started = Date.now();
  t.equal(await roundTrip(proxyPort, 'slow', 2000), 'slow');
  t.ok(Date.now() - started >= 100, 'two delayed hops');
});

t.test('a fully lossy link resets connections', async (t) => {
  const { server, port } = await echoServer();
  const proxy = new LinkProxy('a', 'b', port, () => 0);
  const proxyPort = await proxy.listen();
  t.teardown(async () => {
    await proxy.close();
    server.close();
  });
  proxy.setLoss(1);
  t.equal(await roundTrip(proxyPort, 'drop', 300), '');
  t.equal(proxy.bytesForward, 0);
});

t.test('the mesh gives each node its peers through its own proxies', async (t) => {
  const { server, port } = await echoServer();
  const mesh = await ProxyMesh.start(
    new Map([
      ['n1', port],
      ['n2', port],
      ['n3', port],
    ]),
  );
  t.teardown(async () => {
    await mesh.close();
    server.close();
  });
  t.equal(mesh.links.length, 6, 'one proxy per ordered pair');
  const peers = mesh.peersFor('n1').split(',');
  t.equal(peers[0], `n1=127.0.0.1:${port}`, 'own entry is the real address');
  t.equal(peers[1], `n2=127.0.0.1:${mesh.link('n1', 'n2').port}`);
  mesh.cut([{ from: 'n1', to: 'n2' }]);
  t.equal(await roundTrip(mesh.link('n1', 'n2').port, 'x', 200), '', 'n1 -> n2 cut');
  t.equal(await roundTrip(mesh.link('n2', 'n1').port, 'y'), 'y', 'n2 -> n1 still up (one-way)');
  mesh.healAll();
  t.equal(await roundTrip(mesh.link('n1', 'n2').port, 'z'), 'z');
});

t.test('partition shapes cut the links they name', async (t) => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const rng = new Rng(7);
  const mm = partitionLinks('majority-minority', nodes, null, rng);
  t.equal(mm.length, 2 * 2 * 3, 'minority of 2 vs 3, both ways');
  const iso = partitionLinks('isolate-leader', nodes, 'n3', rng);
  t.ok(iso.every((l) => l.from === 'n3' || l.to === 'n3'));
  t.equal(iso.length, 8);
  const oneWay = partitionLinks('one-way', nodes, 'n2', rng);
  t.same(
    oneWay.map((l) => l.from),
    ['n2', 'n2', 'n2', 'n2'],
  );
  const ring = partitionLinks('ring', nodes, null, rng);
  t.equal(ring.length, 10, 'each node loses its two non-neighbours');
  const bridge = partitionLinks('bridge', nodes, null, rng);
  t.equal(bridge.length, 8, 'two pairs cut from each other, bridge untouched');
});
