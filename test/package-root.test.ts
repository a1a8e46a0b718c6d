// `import { Client, RateLimiter } from 'distributed-rate-limiter'` must not load SQLite's native
// addon: a service that only uses the Client (or an in-memory RateLimiter) never pays for it.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../dist/src/index.js');

const probe = (withPath: boolean) => `
import { createRequire } from 'node:module';
const { Client, RateLimiter } = await import(${JSON.stringify(root)});
new Client({ endpoints: ['127.0.0.1:1'] });
const dir = (await import('node:fs')).mkdtempSync((await import('node:os')).tmpdir() + '/drl-root-');
const limiter = new RateLimiter(${withPath ? '{ path: dir + "/s.db", ' : '{ '}rules: { default: { limit: 1, windowMs: 1000 } } });
limiter.allow('k');
limiter.close();
const cache = createRequire(import.meta.url).cache;
console.log(Object.keys(cache).some((k) => k.includes('better-sqlite3')));
`;

t.test('the package root loads better-sqlite3 only when a RateLimiter has a path', async (t) => {
  const inMemory = await run(process.execPath, ['--input-type=module', '-e', probe(false)]);
  t.equal(inMemory.stdout.trim(), 'false', 'Client + in-memory RateLimiter: no native addon');
  const persisted = await run(process.execPath, ['--input-type=module', '-e', probe(true)]);
  t.equal(persisted.stdout.trim(), 'true', 'the probe does see it once a path is used');
});
