import { randomInt } from 'node:crypto';
import net from 'node:net';
import type { Message, NodeId } from '../types.js';
import { serveInbound } from './inbound-connection.js';
import { PeerLink } from './peer-link.js';
import {
  newStats,
  parseAddress,
  type SocketFactory,
  type TransportOptions,
  type TransportStats,
} from './transport-types.js';

export const plainSocketFactory: SocketFactory = {
  createServer: (onConnection) => net.createServer(onConnection),
  connect: (host, port) => net.connect({ host, port }),
};

/**
 * Raft messages over TCP. Each node dials every peer at the address it was given and sends only
 * on that connection; what it accepts it only reads. So cutting the A->B proxy silences exactly
 * A's messages to B.
 */
export class TcpTransport {
  private readonly stats = newStats();
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<net.Socket>();
  /** Removed members: their inbound handshakes do not recreate a link. */
  private readonly removed = new Set<NodeId>();
  private readonly secret: Uint8Array;
  private server: net.Server | null = null;
  private stopped = false;
  private advertised: string;

  constructor(private readonly o: TransportOptions) {
    if (o.secret.length === 0) throw new RangeError('raft transport: empty cluster secret');
    this.secret = typeof o.secret === 'string' ? Buffer.from(o.secret, 'utf8') : o.secret;
    for (const address of Object.values(o.peers)) parseAddress(address);
    this.advertised = o.advertise ?? `${o.listen.host}:${o.listen.port}`;
  }

  /** Listens, starts dialing peers; resolves with the bound address. */
  async start(): Promise<{ host: string; port: number }> {
    const factory = this.o.socketFactory ?? plainSocketFactory;
    const server = factory.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.listen.port, this.o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    this.advertised = this.o.advertise ?? `${this.o.listen.host}:${bound.port}`;
    for (const [id, address] of Object.entries(this.o.peers)) this.setPeer(id, address);
    return { host: bound.address, port: bound.port };
  }

  /** Sends to message.to; false when dropped (unknown peer, no connection, queue full). */
  send(message: Message): boolean {
    const link = this.links.get(message.to);
    if (!link) {
      this.stats.droppedMessages++;
      return false;
    }
    return link.send(message);
  }

  /**
   * Writes every link's queued frames now. Links otherwise write once per event-loop turn
   * (batching a turn's messages); a leader calls this between queueing its App messages and
   * its own fsync, which blocks the loop, so the messages leave before that fsync.
   */
  flush(): void {
    for (const link of this.links.values()) link.flushNow();
  }

  /** Adds a peer or moves it to a new address (reconnects at once). */
  setPeer(id: NodeId, address: string): void {
    if (this.stopped || id === this.o.id) return;
    this.removed.delete(id);
    const link = this.links.get(id);
    if (link) {
      link.setAddress(address);
      return;
    }
    this.links.set(id, this.newLink(id, address));
  }

  removePeer(id: NodeId): void {
    this.removed.add(id);
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  /** Address each peer is dialed at, by id (for GET /cluster). */
  peerAddresses(): Record<NodeId, string> {
    const out: Record<NodeId, string> = {};
    for (const [id, link] of this.links) out[id] = link.currentAddress();
    return out;
  }

  /** What this node sends in its handshake as its own address. */
  advertisedAddress(): string {
    return this.advertised;
  }

  getStats(): Readonly<TransportStats> {
    return this.stats;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const socket of this.inbound) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.on('close', () => this.inbound.delete(socket));
    serveInbound(socket, {
      selfId: this.o.id,
      secret: this.secret,
      logger: this.o.logger,
      stats: this.stats,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs ?? 3000,
      frameBytesMax: this.o.frameBytesMax ?? 64 * 1024 * 1024,
      onMessage: this.o.onMessage,
      onPeerAddress: (id, address) => this.learnAddress(id, address),
      ...(this.o.onPeerMeta ? { onPeerMeta: this.o.onPeerMeta } : {}),
    });
  }

  /**
   * A peer we have no link to dialed us (we joined without --peers, or it joined later): dial
   * it back where it says it listens. A configured or replicated address is never overridden.
   */
  private learnAddress(id: NodeId, address: string): void {
    if (this.links.has(id) || id === this.o.id || this.removed.has(id)) return;
    try {
      parseAddress(address);
    } catch {
      return;
    }
    this.o.logger.info({ peer: id, address }, 'raft transport: learned peer address');
    this.setPeer(id, address);
  }

  private newLink(id: NodeId, address: string): PeerLink {
    return new PeerLink({
      selfId: this.o.id,
      advertise: () => this.advertised,
      meta: this.o.advertiseMeta ?? '',
      peerId: id,
      address,
      secret: this.secret,
      logger: this.o.logger,
      stats: this.stats,
      factory: this.o.socketFactory ?? plainSocketFactory,
      randomInt: this.o.randomInt ?? ((n) => randomInt(n)),
      queueBytesMax: this.o.queueBytesMax ?? 8 * 1024 * 1024,
      reconnectMinMs: this.o.reconnectMinMs ?? 50,
      reconnectMaxMs: this.o.reconnectMaxMs ?? 2000,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs ?? 3000,
      frameBytesMax: this.o.frameBytesMax ?? 64 * 1024 * 1024,
      ...(this.o.onFlushed ? { onFlushed: this.o.onFlushed } : {}),
    });
  }
}
