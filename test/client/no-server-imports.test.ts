import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const probe = fileURLToPath(new URL('./fixtures/module-probe.mjs', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const forbidden =
  /node_modules\/(fastify|better-sqlite3|pino|prom-client)\/|\/src\/(raft|storage|api|limiter\/(?!types))/;

function loaded(entry: string): string[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', probe, `${root}${entry}`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const { esm, cjs } = JSON.parse(out) as { esm: string[]; cjs: string[] };
  return [...esm, ...cjs];
}

t.test('the client entry loads no server code (fastify, SQLite, Raft, storage, api)', async (t) => {
  const modules = loaded('src/client/index.ts');
  t.ok(
    modules.some((m) => m.includes('/src/client/client.ts')),
    'the probe sees the client',
  );
  t.ok(
    modules.some((m) => m.includes('node_modules/undici/')),
    'and its transport',
  );
  t.same(
    modules.filter((m) => forbidden.test(m)),
    [],
  );
});

t.test('the probe does catch server code when it is loaded', async (t) => {
  const modules = loaded('src/api/index.ts');
  t.ok(modules.some((m) => m.includes('node_modules/fastify/')));
  t.ok(modules.some((m) => m.includes('/src/api/app.ts')));
});
