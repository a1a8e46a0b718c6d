import type net from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../types.js';

/** Counters a transport keeps (exported as metrics, printed by the bench). */
export interface TransportStats {
  sentMessages: number;
  sentEntries: number;
  sentBytes: number;
  /** Messages dropped: queue full, no connection, or a connection lost with them queued. */
  droppedMessages: number;
  receivedMessages: number;
  receivedBytes: number;
  /** Outbound connections that completed the handshake. */
  connects: number;
  /** Inbound or outbound handshakes refused (wrong secret, wrong peer id, malformed). */
  authFailures: number;
}

export function newStats(): TransportStats {
  return {
    sentMessages: 0,
    sentEntries: 0,
    sentBytes: 0,
    droppedMessages: 0,
    receivedMessages: 0,
    receivedBytes: 0,
    connects: 0,
    authFailures: 0,
  };
}

/**
 * How sockets are made. The default is plain TCP; a TLS factory (node:tls createServer/connect,
 * whose sockets are net.Sockets too) plugs in here without touching the rest of the transport.
 */
export interface SocketFactory {
  createServer(onConnection: (socket: net.Socket) => void): net.Server;
  /** The handshake starts when the server's Hello arrives, so no connect event is awaited. */
  connect(host: string, port: number): net.Socket;
}

export interface TransportOptions {
  id: NodeId;
  /** Where to listen for inbound connections; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** Address peers should dial back (default listen host + bound port); sent in the handshake. */
  advertise?: string;
  /** Sent in each handshake after the MAC, not covered by it (handshake.ts): advisory data. */
  advertiseMeta?: string;
  /**
   * Called with the `advertiseMeta` of a peer that proved it knows the secret (if it sent one
   * with a valid MAC of its own; an unsigned or altered note is ignored with a warning).
   */
  onPeerMeta?: (id: NodeId, meta: string) => void;
  /** Raft address ("host:port") of every other member this node sends to. */
  peers: Record<NodeId, string>;
  /** Shared cluster secret: peers prove they know it; it is never sent. */
  secret: string | Uint8Array;
  logger: Logger;
  onMessage: (message: Message) => void;
  /** Uniform integer in [0, n): backoff jitter. Defaults to crypto.randomInt. */
  randomInt?: (n: number) => number;
  /** Bytes queued per peer (not yet taken by the kernel) beyond which messages are dropped. */
  queueBytesMax?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  handshakeTimeoutMs?: number;
  frameBytesMax?: number;
  socketFactory?: SocketFactory;
  /** Diagnosis (entry tracing): called after a link wrote its queued frames to its socket. */
  onFlushed?: (peer: NodeId) => void;
}

export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RangeError(`bad raft address "${address}" (want host:port)`);
  }
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}
