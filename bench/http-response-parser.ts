/**
 * Splits one keep-alive connection's byte stream into HTTP/1.1 responses (status + body), for
 * the paced generator's raw client. Only what our targets send is handled: a Content-Length body
 * (fastify always sets one for JSON); anything else (chunked, no length) is reported as an error
 * instead of being guessed at. A response usually arrives in one chunk on loopback, so the
 * common path copies nothing.
 */

const headEnd = Buffer.from('\r\n\r\n');
const contentLength = /\r\ncontent-length:[ \t]*(\d+)/i;

export interface ParsedResponse {
  status: number;
  body: Buffer;
}

export class ResponseParser {
  private pending: Buffer | null = null;

  /**
   * Feeds bytes; calls onResponse for each complete response in order. Returns an error message
   * when the stream cannot be parsed (the connection should then be dropped).
   */
  feed(chunk: Buffer, onResponse: (r: ParsedResponse) => void): string | undefined {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    for (;;) {
      const end = buf.indexOf(headEnd);
      if (end < 0) break;
      const head = buf.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.')) return 'not an HTTP/1.x response';
      const status = Number(head.slice(9, 12));
      const length = contentLength.exec(head);
      if (!Number.isInteger(status) || length === null) return `unsupported response: ${head}`;
      const bodyStart = end + headEnd.length;
      const bodyEnd = bodyStart + Number(length[1]);
      if (buf.length < bodyEnd) break;
      onResponse({ status, body: buf.subarray(bodyStart, bodyEnd) });
      if (buf.length === bodyEnd) return undefined;
      buf = buf.subarray(bodyEnd);
    }
    this.pending = buf;
    return undefined;
  }

  /** True while part of a response is buffered. */
  get midResponse(): boolean {
    return this.pending !== null;
  }
}
