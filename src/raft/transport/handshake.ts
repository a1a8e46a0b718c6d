import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../types.js';
import { ByteReader, CodecError } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { beginFrame, endFrame, FRAME_HEADER_BYTES, type Frame, FrameKind } from './frame.js';

/**
 * Mutual challenge-response on every connection; the cluster secret never crosses the wire.
 *   server -> client  Hello  {serverId, nonceS}
 *   client -> server  Auth   {clientId, address, nonceC,
 *                             HMAC(secret, "c" | nonceS | nonceC | clientId | serverId | address)}
 *   server -> client  AuthOk {HMAC(secret, "s" | nonceC | nonceS | serverId | clientId)}
 * Both nonces are fresh random 16 bytes, so a recorded exchange cannot be replayed.
 * `address` is where the client listens: a server with no address for that peer (a node that
 * joined with no --peers) learns where to dial it back. After the MAC, Auth may carry `meta`:
 * the application's own note (a node's HTTP address), followed by its own MAC,
 * HMAC(secret, "m" | nonceS | nonceC | clientId | serverId | meta). Kept out of the first MAC
 * so that nodes of a version before the note (which stop reading at that MAC) still accept the
 * frame; a note without a valid MAC of its own (forged, altered, or from the one version that
 * sent notes unsigned) is ignored, so only a holder of the secret can plant an address.
 */
export const NONCE_BYTES = 16;

export interface Hello {
  serverId: NodeId;
  nonce: Buffer;
}

export interface Auth {
  clientId: NodeId;
  /** The client's advertised Raft address ("host:port"). */
  address: string;
  nonce: Buffer;
  mac: Buffer;
  /** The application's note ('' if none; absent from older peers' frames). */
  meta: string;
  /** noteMac of `meta` (null when the frame carries none). */
  metaMac: Buffer | null;
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

function frameOf(kind: FrameKind, write: (w: ByteWriter) => void): Buffer {
  const w = new ByteWriter(128);
  const start = beginFrame(w, kind);
  write(w);
  endFrame(w, start);
  return w.take();
}

function payload(frame: Frame, kind: FrameKind): ByteReader {
  if (frame.kind !== kind) throw new CodecError(`expected frame kind ${kind}, got ${frame.kind}`);
  return new ByteReader(frame.buf, FRAME_HEADER_BYTES);
}

export function helloFrame(hello: Hello): Buffer {
  return frameOf(FrameKind.Hello, (w) => {
    w.str(hello.serverId);
    w.bytes(hello.nonce);
  });
}

export function parseHello(frame: Frame): Hello {
  const r = payload(frame, FrameKind.Hello);
  return { serverId: r.str(), nonce: r.bytes() };
}

export function authFrame(auth: Auth): Buffer {
  return frameOf(FrameKind.Auth, (w) => {
    w.str(auth.clientId);
    w.str(auth.address);
    w.bytes(auth.nonce);
    w.bytes(auth.mac);
    if (auth.meta === '') return;
    w.str(auth.meta);
    if (auth.metaMac) w.bytes(auth.metaMac);
  });
}

export function parseAuth(frame: Frame): Auth {
  const r = payload(frame, FrameKind.Auth);
  const auth: Auth = {
    clientId: r.str(),
    address: r.str(),
    nonce: r.bytes(),
    mac: r.bytes(),
    meta: '',
    metaMac: null,
  };
  if (!r.done()) auth.meta = r.str();
  if (!r.done()) auth.metaMac = r.bytes();
  return auth;
}

export function authOkFrame(mac: Buffer): Buffer {
  return frameOf(FrameKind.AuthOk, (w) => w.bytes(mac));
}

export function parseAuthOk(frame: Frame): Buffer {
  return payload(frame, FrameKind.AuthOk).bytes();
}

export function clientMac(
  secret: Uint8Array,
  nonceS: Buffer,
  nonceC: Buffer,
  clientId: NodeId,
  serverId: NodeId,
  address: string,
): Buffer {
  return mac(secret, 'c', nonceS, nonceC, clientId, serverId, address);
}

/** The MAC of the Auth frame's note (see the protocol above). */
export function noteMac(
  secret: Uint8Array,
  nonceS: Buffer,
  nonceC: Buffer,
  clientId: NodeId,
  serverId: NodeId,
  meta: string,
): Buffer {
  return mac(secret, 'm', nonceS, nonceC, clientId, serverId, meta);
}

export function serverMac(
  secret: Uint8Array,
  nonceC: Buffer,
  nonceS: Buffer,
  serverId: NodeId,
  clientId: NodeId,
): Buffer {
  return mac(secret, 's', nonceC, nonceS, serverId, clientId, '');
}

function mac(
  secret: Uint8Array,
  role: string,
  a: Buffer,
  b: Buffer,
  x: string,
  y: string,
  address: string,
): Buffer {
  const h = createHmac('sha256', secret);
  // Length-prefix the strings so ("ab","c") and ("a","bc") cannot produce the same input.
  const ids = new ByteWriter(64);
  ids.str(x);
  ids.str(y);
  ids.str(address);
  return h.update(role).update(a).update(b).update(ids.take()).digest();
}

export function macEqual(expected: Buffer, got: Buffer): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}
