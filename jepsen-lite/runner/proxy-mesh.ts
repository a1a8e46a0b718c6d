import { LinkProxy } from './link-proxy.js';

/** A directed link between two node ids. */
export interface Link {
  from: string;
  to: string;
}

/**
 * One LinkProxy per ordered pair of nodes. peersFor(A) gives node A's --peers value: its own
 * real Raft address and, for every other node B, the proxy A -> B.
 */
export class ProxyMesh {
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly raftPorts: Map<string, number>;

  constructor(raftPorts: Map<string, number>) {
    this.raftPorts = raftPorts;
  }

  static async start(raftPorts: Map<string, number>, random?: () => number): Promise<ProxyMesh> {
    const mesh = new ProxyMesh(raftPorts);
    for (const from of raftPorts.keys()) {
      for (const [to, port] of raftPorts) {
        if (from === to) continue;
        const proxy = new LinkProxy(from, to, port, random);
        await proxy.listen();
        mesh.proxies.set(`${from}>${to}`, proxy);
      }
    }
    return mesh;
  }

  link(from: string, to: string): LinkProxy {
    const proxy = this.proxies.get(`${from}>${to}`);
    if (proxy === undefined) throw new Error(`no link ${from} -> ${to}`);
    return proxy;
  }

  get links(): LinkProxy[] {
    return [...this.proxies.values()];
  }

  peersFor(node: string): string {
    return [...this.raftPorts]
      .map(([id, port]) => `${id}=127.0.0.1:${id === node ? port : this.link(node, id).port}`)
      .join(',');
  }

  cut(links: readonly Link[]): void {
    for (const l of links) this.link(l.from, l.to).setCut(true);
  }

  healAll(): void {
    for (const p of this.proxies.values()) p.heal();
  }

  close(): Promise<void> {
    return Promise.all([...this.proxies.values()].map((p) => p.close())).then(() => undefined);
  }
}
