import type net from 'node:net';
import type { Logger } from 'pino';
import type { Message, NodeId } from '../types.js';
import { ByteReader } from './byte-reader.js';
import { FRAME_HEADER_BYTES, type Frame, FrameDecoder, FrameKind } from './frame.js';
import {
  type Auth,
  authOkFrame,
  clientMac,
  helloFrame,
  macEqual,
  newNonce,
  noteMac,
  parseAuth,
  serverMac,
} from './handshake.js';
import { decodeMessage } from './message-codec.js';
import type { TransportStats } from './transport-types.js';

export interface InboundOptions {
  selfId: NodeId;
  secret: Uint8Array;
  logger: Logger;
  stats: TransportStats;
  handshakeTimeoutMs: number;
  frameBytesMax: number;
  onMessage: (message: Message) => void;
  /** An authenticated peer announced where it listens. */
  onPeerAddress: (id: NodeId, address: string) => void;
  onPeerMeta?: (id: NodeId, meta: string) => void;
}

/**
 * Serves one accepted connection: authenticates the dialer, then only reads Raft messages from
 * it (replies go out on this node's own outbound link to that peer).
 */
export function serveInbound(socket: net.Socket, o: InboundOptions): void {
  socket.setNoDelay(true);
  const remote = `${socket.remoteAddress}:${socket.remotePort}`;
  const nonce = newNonce();
  const decoder = new FrameDecoder(o.frameBytesMax);
  let peerId: NodeId | null = null;
  const timer = setTimeout(() => refuse('handshake timed out'), o.handshakeTimeoutMs);

  function refuse(why: string, claimedId?: string): void {
    clearTimeout(timer);
    o.stats.authFailures++;
    o.logger.warn({ remote, claimedId, why }, 'raft transport: refused inbound peer');
    socket.destroy();
  }

  function onAuth(frame: Frame): void {
    const auth = parseAuth(frame);
    const expected = clientMac(o.secret, nonce, auth.nonce, auth.clientId, o.selfId, auth.address);
    if (!macEqual(expected, auth.mac)) {
      refuse('peer failed to prove it knows the cluster secret', auth.clientId);
      return;
    }
    clearTimeout(timer);
    peerId = auth.clientId;
    o.onPeerAddress(auth.clientId, auth.address);
    if (auth.meta !== '') onNote(auth);
    socket.write(authOkFrame(serverMac(o.secret, auth.nonce, nonce, o.selfId, auth.clientId)));
  }

  /** The dialer's note reaches the application only with a valid MAC of its own. */
  function onNote(auth: Auth): void {
    const expected = noteMac(o.secret, nonce, auth.nonce, auth.clientId, o.selfId, auth.meta);
    if (auth.metaMac && macEqual(expected, auth.metaMac)) {
      o.onPeerMeta?.(auth.clientId, auth.meta);
      return;
    }
    o.logger.warn(
      { remote, peer: auth.clientId },
      'raft transport: ignored a handshake note without a valid MAC',
    );
  }

  function onFrame(frame: Frame): void {
    if (socket.destroyed) return;
    if (peerId === null) {
      onAuth(frame);
      return;
    }
    if (frame.kind !== FrameKind.Message) throw new Error(`unexpected frame kind ${frame.kind}`);
    const message = decodeMessage(new ByteReader(frame.buf, FRAME_HEADER_BYTES));
    if (message.from !== peerId)
      throw new Error(`message from ${message.from} on ${peerId}'s link`);
    received.push(message);
  }

  // Decoding errors close the connection; errors thrown by onMessage (invariant violations in
  // the node) are not ours to swallow, so messages are delivered outside the decoder's try.
  const received: Message[] = [];

  socket.on('data', (chunk: Buffer) => {
    o.stats.receivedBytes += chunk.length;
    try {
      decoder.push(chunk, onFrame);
    } catch (err) {
      if (peerId === null) {
        refuse((err as Error).message);
        return;
      }
      o.logger.warn(
        { remote, peer: peerId, err: (err as Error).message },
        'raft transport: bad frame',
      );
      socket.destroy();
    }
    o.stats.receivedMessages += received.length;
    for (let i = 0; i < received.length; i++) o.onMessage(received[i]!);
    received.length = 0;
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clearTimeout(timer));
  socket.write(helloFrame({ serverId: o.selfId, nonce }));
}
