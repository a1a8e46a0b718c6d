import type net from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../types.js';
import { ByteWriter } from './byte-writer.js';
import { beginFrame, endFrame, type Frame, FrameDecoder, FrameKind } from './frame.js';
import {
  authFrame,
  clientMac,
  macEqual,
  newNonce,
  noteMac,
  parseAuthOk,
  parseHello,
  serverMac,
} from './handshake.js';
import { encodeMessage } from './message-codec.js';
import { parseAddress, type SocketFactory, type TransportStats } from './transport-types.js';

export interface PeerLinkOptions {
  selfId: NodeId;
  /** This node's Raft address as peers should dial it (sent in the handshake). */
  advertise: () => string;
  /** Sent after the handshake's MAC (handshake.ts); '' for none. */
  meta: string;
  peerId: NodeId;
  address: string;
  secret: Uint8Array;
  logger: Logger;
  stats: TransportStats;
  factory: SocketFactory;
  randomInt: (n: number) => number;
  queueBytesMax: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  handshakeTimeoutMs: number;
  frameBytesMax: number;
  onFlushed?: (peer: NodeId) => void;
}

type LinkState = 'connecting' | 'ready' | 'backoff' | 'closed';

/**
 * The one outbound connection from this node to one peer. This node dials it, sends on it, and
 * reads nothing from it but the handshake. Frames of one event-loop turn go out as one write.
 */
export class PeerLink {
  private state: LinkState = 'backoff';
  private socket: net.Socket | null = null;
  private readonly pending = new ByteWriter();
  private pendingMessages = 0;
  private pendingEntries = 0;
  private flushScheduled = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private address: string;

  constructor(private readonly o: PeerLinkOptions) {
    this.address = o.address;
    this.connect();
  }

  /** Where this link dials (configured, replicated or learned). */
  currentAddress(): string {
    return this.address;
  }

  /** Queues one message; returns false (and counts a drop) when it cannot be queued. */
  send(m: Message): boolean {
    const queued = this.pending.length + (this.socket?.writableLength ?? 0);
    if ((this.state !== 'ready' && this.state !== 'connecting') || queued > this.o.queueBytesMax) {
      this.o.stats.droppedMessages++;
      return false;
    }
    const start = beginFrame(this.pending, FrameKind.Message);
    encodeMessage(this.pending, m);
    endFrame(this.pending, start);
    this.pendingMessages++;
    this.pendingEntries += m.entries.length;
    if (this.state === 'ready') this.scheduleFlush();
    return true;
  }

  setAddress(address: string): void {
    parseAddress(address);
    if (address === this.address) return;
    this.o.logger.info({ peer: this.o.peerId, address }, 'raft transport: peer address changed');
    this.address = address;
    this.attempt = 0;
    this.dropConnection();
    this.connect();
  }

  /** Sends what is queued (a stopping leader's last commit index, say), then closes. */
  close(): void {
    this.flush();
    this.state = 'closed';
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    this.discardPending();
    if (!socket) return;
    socket.end();
    // A peer that does not read must not keep us from stopping.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Writes the queued frames now rather than on the next turn (see TcpTransport.flush). */
  flushNow(): void {
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.state !== 'ready' || !this.socket || this.pending.length === 0) return;
    this.o.stats.sentBytes += this.pending.length;
    this.o.stats.sentMessages += this.pendingMessages;
    this.o.stats.sentEntries += this.pendingEntries;
    this.pendingMessages = 0;
    this.pendingEntries = 0;
    this.socket.write(this.pending.take());
    this.o.onFlushed?.(this.o.peerId);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.clearTimer();
    const { host, port } = parseAddress(this.address);
    const socket = this.o.factory.connect(host, port);
    this.socket = socket;
    this.state = 'connecting';
    socket.setNoDelay(true);
    this.timer = setTimeout(() => {
      this.o.logger.warn({ peer: this.o.peerId }, 'raft transport: handshake timed out');
      socket.destroy();
    }, this.o.handshakeTimeoutMs);
    const decoder = new FrameDecoder(this.o.frameBytesMax);
    const nonce = newNonce();
    let serverNonce: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => {
          serverNonce = this.onHandshakeFrame(socket, frame, nonce, serverNonce);
        });
      } catch (err) {
        this.refuse(socket, (err as Error).message);
      }
    });
    socket.on('error', (err) => {
      this.o.logger.debug({ peer: this.o.peerId, err: err.message }, 'raft transport: dial error');
    });
    socket.on('close', () => this.onClose(socket));
  }

  /** Returns the server nonce once Hello arrived. */
  private onHandshakeFrame(
    socket: net.Socket,
    frame: Frame,
    nonce: Buffer,
    serverNonce: Buffer | null,
  ): Buffer | null {
    if (serverNonce === null) {
      const hello = parseHello(frame);
      if (hello.serverId !== this.o.peerId) {
        this.refuse(socket, `expected peer ${this.o.peerId}, reached ${hello.serverId}`);
        return null;
      }
      const address = this.o.advertise();
      const { secret, selfId, peerId } = this.o;
      const mac = clientMac(secret, hello.nonce, nonce, selfId, peerId, address);
      const meta = this.o.meta;
      const metaMac =
        meta === '' ? null : noteMac(secret, hello.nonce, nonce, selfId, peerId, meta);
      socket.write(authFrame({ clientId: selfId, address, nonce, mac, meta, metaMac }));
      return Buffer.from(hello.nonce);
    }
    if (this.state === 'ready') {
      this.refuse(socket, 'peer sent data on an outbound connection');
      return serverNonce;
    }
    const expected = serverMac(this.o.secret, nonce, serverNonce, this.o.peerId, this.o.selfId);
    if (!macEqual(expected, parseAuthOk(frame))) {
      this.refuse(socket, 'peer failed to prove it knows the cluster secret');
      return serverNonce;
    }
    this.clearTimer();
    this.state = 'ready';
    this.attempt = 0;
    this.o.stats.connects++;
    this.o.logger.info({ peer: this.o.peerId, address: this.address }, 'raft transport: connected');
    this.scheduleFlush();
    return serverNonce;
  }

  private refuse(socket: net.Socket, why: string): void {
    this.o.stats.authFailures++;
    this.o.logger.warn(
      { peer: this.o.peerId, address: this.address, why },
      'raft transport: refused',
    );
    socket.destroy();
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.discardPending();
    if (this.state === 'closed') return;
    this.state = 'backoff';
    const base = Math.min(this.o.reconnectMaxMs, this.o.reconnectMinMs * 2 ** this.attempt);
    // Full jitter in [base/2, base): peers restarting together do not dial in lockstep.
    const delayMs = base / 2 + this.o.randomInt(Math.max(1, Math.floor(base / 2)));
    this.attempt = Math.min(this.attempt + 1, 30);
    this.clearTimer();
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  private dropConnection(): void {
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    this.discardPending();
    socket?.destroy();
  }

  private discardPending(): void {
    this.o.stats.droppedMessages += this.pendingMessages;
    this.pendingMessages = 0;
    this.pendingEntries = 0;
    this.pending.reset();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
