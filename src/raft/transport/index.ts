export { CodecError } from './byte-reader.js';
export { plainSocketFactory, TcpTransport } from './tcp-transport.js';
export type { SocketFactory, TransportOptions, TransportStats } from './transport-types.js';
export { parseAddress } from './transport-types.js';
