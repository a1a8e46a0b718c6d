import type net from 'node:net';
import tls from 'node:tls';
import type { SocketFactory } from './transport-types.js';

export interface TlsFactoryOptions {
  /** PEM private key and certificate this node presents (as server and as client). */
  key: string | Buffer;
  cert: string | Buffer;
  /** PEM CA(s) that sign the cluster's certificates; peers must present one (mutual TLS). */
  ca: string | Buffer;
  /** Name checked against the peer's certificate (default: skip the name check, CA only). */
  servername?: string;
}

/**
 * Mutual TLS under the same framing and HMAC handshake: the HMAC still proves membership of the
 * cluster, TLS adds confidentiality. Certificates are checked against the cluster CA only (peer
 * addresses are loopback/IPs, so host names rarely match) unless `servername` is given.
 */
export function tlsSocketFactory(o: TlsFactoryOptions): SocketFactory {
  return {
    createServer: (onConnection) =>
      tls.createServer(
        { key: o.key, cert: o.cert, ca: o.ca, requestCert: true, rejectUnauthorized: true },
        (socket) => onConnection(socket as net.Socket),
      ),
    connect: (host, port) =>
      tls.connect({
        host,
        port,
        key: o.key,
        cert: o.cert,
        ca: o.ca,
        servername: o.servername,
        rejectUnauthorized: true,
        checkServerIdentity: o.servername ? tls.checkServerIdentity : () => undefined,
      }),
  };
}
