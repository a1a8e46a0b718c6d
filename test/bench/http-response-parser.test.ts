// The raw client's response splitting: whole, split anywhere, several in one chunk, and the
// responses it refuses to guess at.
import t from 'tap';
import { type ParsedResponse, ResponseParser } from '../../bench/http-response-parser.js';

const response = (status: number, body: string, lengthHeader = 'content-length') =>
  `HTTP/1.1 ${status} OK\r\ncontent-type: application/json\r\n${lengthHeader}: ${body.length}\r\nkeep-alive: timeout=72\r\n\r\n${body}`;

function feedAll(chunks: string[]): { got: { status: number; body: string }[]; errors: string[] } {
  const p = new ResponseParser();
  const got: { status: number; body: string }[] = [];
  const errors: string[] = [];
  for (const c of chunks) {
    const e = p.feed(Buffer.from(c, 'latin1'), (r: ParsedResponse) =>
      got.push({ status: r.status, body: r.body.toString('latin1') }),
    );
    if (e !== undefined) errors.push(e);
  }
  return { got, errors };
}

t.test('one response per chunk', async (t) => {
  const { got, errors } = feedAll([response(200, '{"allowed":true}')]);
  t.same(got, [{ status: 200, body: '{"allowed":true}' }]);
  t.same(errors, []);
});

t.test('split at every byte, and two responses in one chunk', async (t) => {
  const two =
    response(200, '{"allowed":true}') + response(429, '{"allowed":false}', 'Content-Length');
  for (let cut = 1; cut < two.length; cut++) {
    const { got, errors } = feedAll([two.slice(0, cut), two.slice(cut)]);
    if (got.length !== 2 || errors.length > 0) {
      t.fail(`split at ${cut}: ${JSON.stringify({ got, errors })}`);
      return;
    }
  }
  t.same(feedAll([two]).got, [
    { status: 200, body: '{"allowed":true}' },
    { status: 429, body: '{"allowed":false}' },
  ]);
});

t.test('an empty body and a body without a length', async (t) => {
  t.same(feedAll([response(204, '')]).got, [{ status: 204, body: '' }]);
  const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
  const { got, errors } = feedAll([chunked]);
  t.same(got, []);
  t.match(errors[0], /unsupported response/);
  t.match(feedAll(['SSH-2.0-x\r\n\r\n']).errors[0], /not an HTTP/);
});
