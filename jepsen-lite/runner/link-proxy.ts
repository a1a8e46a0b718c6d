import net from 'node:net';

/**
 * A TCP proxy for one ordered pair of nodes (from -> to): node `from` dials it as `to`'s Raft
 * address, and it forwards to `to`'s real Raft port. Since each node sends to a peer only on
 * the connection it dialed, cutting this proxy cuts exactly the from -> to direction.
 * Faults: cut (drop every connection, refuse new ones), delay (every chunk held delayMs, order
 * kept), loss (each chunk resets its connection with probability lossRate: TCP cannot drop a
 * chunk without corrupting the stream, so loss is modelled as connection resets).
 */
export class LinkProxy {
  readonly from: string;
  readonly to: string;
  /** Bytes carried from -> to since start (cut links carry none). */
  bytesForward = 0;
  bytesBackward = 0;
  private readonly targetPort: number;
  private readonly random: () => number;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;
  private delayMs = 0;
  private lossRate = 0;

  constructor(from: string, to: string, targetPort: number, random: () => number = Math.random) {
    this.from = from;
    this.to = to;
    this.targetPort = targetPort;
    this.random = random;
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on an ephemeral loopback port; returns it. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const address = this.server.address();
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening');
    return address.port;
  }

  get cut(): boolean {
    return this.isCut;
  }

  setCut(cut: boolean): void {
    this.isCut = cut;
    if (cut) this.resetAll();
  }

  setDelay(delayMs: number): void {
    this.delayMs = Math.max(0, delayMs);
  }

  setLoss(lossRate: number): void {
    this.lossRate = Math.min(1, Math.max(0, lossRate));
  }

  heal(): void {
    this.isCut = false;
    this.delayMs = 0;
    this.lossRate = 0;
  }

  close(): Promise<void> {
    this.resetAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private resetAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private accept(client: net.Socket): void {
    this.track(client);
    if (this.isCut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.track(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    this.pipe(client, upstream, (n) => {
      this.bytesForward += n;
    });
    this.pipe(upstream, client, (n) => {
      this.bytesBackward += n;
    });
  }

  private pipe(src: net.Socket, dst: net.Socket, count: (n: number) => void): void {
    // Chunks leave in order: each is due no earlier than the previous one.
    let lastDueMs = 0;
    src.on('data', (chunk: Buffer) => {
      if (this.isCut) return;
      if (this.lossRate > 0 && this.random() < this.lossRate) {
        src.destroy();
        dst.destroy();
        return;
      }
      const send = (): void => {
        if (this.isCut || dst.destroyed) return;
        count(chunk.length);
        dst.write(chunk);
      };
      if (this.delayMs === 0 && lastDueMs <= Date.now()) {
        send();
        return;
      }
      const dueMs = Math.max(Date.now() + this.delayMs, lastDueMs);
      lastDueMs = dueMs;
      setTimeout(send, dueMs - Date.now()).unref();
    });
  }
}
