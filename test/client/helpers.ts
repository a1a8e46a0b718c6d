import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { buildApi } from '../../src/api/index.js';
import { FakeService } from '../api/fake-service.js';

export interface Node {
  service: FakeService;
  app: ReturnType<typeof buildApi>;
  addr: string;
}

export async function startNode(id: string, service = new FakeService({ id })): Promise<Node> {
  const app = buildApi(service, { requestTimeoutMs: 1000 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { service, app, addr };
}

/** Makes the nodes one group: same member list, `leader` leads, the others forward to it. */
export function group(nodes: Node[], leader: Node): void {
  const members = nodes.map((n) => ({ id: n.service.id, raft: '127.0.0.1:1', http: n.addr }));
  for (const n of nodes) {
    n.service.members.splice(0, n.service.members.length, ...members);
    n.service.follower =
      n === leader ? null : { leaderId: leader.service.id, leaderHttp: leader.addr };
  }
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
