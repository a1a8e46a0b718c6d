// The paced generator's raw client against a local node:http server (a handful of requests, no
// load): requests go out on idle connections only, answers come back tagged, and a connection
// the server closes is replaced so the pool keeps its size.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { type RawAnswer, RawPool } from '../../bench/http-raw-pool.js';

t.test('tagged answers, busy connections, a closed connection replaced', async (t) => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const key = (JSON.parse(body) as { key: string }).key;
      const out = JSON.stringify({ allowed: key !== 'deny', key });
      // The server may end a keep-alive connection; the pool must open another.
      if (key === 'close') res.setHeader('connection', 'close');
      // A length, as fastify sends: the raw client refuses chunked bodies.
      res.writeHead(key === 'deny' ? 429 : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(out),
      });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  const answers: RawAnswer[] = [];
  const errors: number[] = [];
  let wake: () => void = () => {};
  const pool = new RawPool(
    `http://127.0.0.1:${port}`,
    2,
    (a) => {
      answers.push(a);
      wake();
    },
    (tag) => errors.push(tag),
  );
  await pool.open();
  t.teardown(() => pool.close());
  const answered = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const bound = setTimeout(() => reject(new Error(`only ${answers.length} answers`)), 5_000);
      wake = () => {
        if (answers.length >= n) {
          clearTimeout(bound);
          resolve();
        }
      };
      wake();
    });

  t.equal(pool.idle, 2);
  t.ok(pool.send('{"key":"a"}', 7));
  t.ok(pool.send('{"key":"deny"}', 8));
  t.notOk(pool.send('{"key":"b"}', 9), 'both connections busy: the caller keeps the request');
  await answered(2);
  const byTag = new Map(answers.map((a) => [a.tag, a]));
  t.equal(byTag.get(7)?.status, 200);
  t.ok(byTag.get(7)?.body.includes('"allowed":true'));
  t.equal(byTag.get(8)?.status, 429);
  t.ok(byTag.get(7)!.answeredMs >= byTag.get(7)!.sentMs);

  t.ok(pool.send('{"key":"close"}', 10));
  await answered(3);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(pool.idle, 2, 'the closed connection was replaced');
  t.ok(pool.send('{"key":"c"}', 11));
  t.ok(pool.send('{"key":"d"}', 12));
  await answered(5);
  t.same(
    answers.map((a) => a.tag).sort((a, b) => a - b),
    [7, 8, 10, 11, 12],
  );
  t.same(errors, []);
});
