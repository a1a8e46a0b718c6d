/**
 * The paced generator's HTTP client: N keep-alive HTTP/1.1 connections written to directly (one
 * `socket.write` of a prebuilt request string, Nagle off) and read with ResponseParser, one
 * request in flight per connection. undici's Pool spends several promises, objects and header
 * parses per request; at 10k+ requests/s on a 2-core machine that CPU and its GC are stalls in
 * the very process that times the target. Here a request costs one string and a few small
 * objects, and the caller keeps the queue (a request waits for a free connection in the
 * caller's schedule, so the wait still counts against it).
 */
import { connect, type Socket } from 'node:net';
import { type ParsedResponse, ResponseParser } from './http-response-parser.js';

export interface RawAnswer {
  /** The caller's tag for the request (its index in the schedule). */
  tag: number;
  status: number;
  body: Buffer;
  /** performance.now() when the request was written, and when its answer was parsed. */
  sentMs: number;
  answeredMs: number;
}

interface Connection {
  socket: Socket;
  parser: ResponseParser;
  /** The tag in flight, or -1 when idle. */
  tag: number;
  sentMs: number;
  open: boolean;
}

export class RawPool {
  private readonly free: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly head: string;
  private closing = false;

  constructor(
    url: string,
    private readonly connections: number,
    private readonly onAnswer: (a: RawAnswer) => void,
    private readonly onError: (tag: number) => void,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.head = `POST /allow HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: `;
  }

  private readonly host: string;
  private readonly port: number;

  /** Opens every connection; resolves once all are connected. */
  async open(): Promise<void> {
    await Promise.all(Array.from({ length: this.connections }, () => this.connectOne()));
  }

  private connectOne(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      const c: Connection = {
        socket,
        parser: new ResponseParser(),
        tag: -1,
        sentMs: 0,
        open: false,
      };
      this.all.add(c);
      socket.once('connect', () => {
        c.open = true;
        this.free.push(c);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
      socket.on('error', (err) => {
        if (!c.open) reject(err);
      });
      socket.on('close', () => this.onClose(c));
    });
  }

  private onData(c: Connection, chunk: Buffer): void {
    const error = c.parser.feed(chunk, (r: ParsedResponse) => {
      const tag = c.tag;
      if (tag < 0) return; // an answer nobody asked for; the stream is out of step
      c.tag = -1;
      this.free.push(c);
      this.onAnswer({
        tag,
        status: r.status,
        body: r.body,
        sentMs: c.sentMs,
        answeredMs: performance.now(),
      });
    });
    if (error !== undefined) c.socket.destroy();
  }

  private onClose(c: Connection): void {
    const wasOpen = c.open;
    c.open = false;
    this.all.delete(c);
    const at = this.free.indexOf(c);
    if (at >= 0) this.free.splice(at, 1);
    if (c.tag >= 0) this.onError(c.tag);
    c.tag = -1;
    // The server closed a keep-alive connection (or it broke): keep the pool at its size. A
    // connect that failed is not retried, so a dead target does not get a reconnect loop.
    if (wasOpen && !this.closing) this.connectOne().catch(() => {});
  }

  /** How many connections are idle now. */
  get idle(): number {
    return this.free.length;
  }

  /** Writes one request on an idle connection; false when every connection is busy. */
  send(body: string, tag: number): boolean {
    const c = this.free.pop();
    if (c === undefined) return false;
    c.tag = tag;
    c.sentMs = performance.now();
    c.socket.write(`${this.head}${Buffer.byteLength(body)}\r\n\r\n${body}`, 'latin1');
    return true;
  }

  close(): void {
    this.closing = true;
    for (const c of this.all) c.socket.destroy();
  }
}
