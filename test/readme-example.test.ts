// Runs README.md's embedded example as written, against the built package (dist/): the
// example imports 'distributed-rate-limiter', which resolves to this package from inside it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const ROOT = join(import.meta.dirname, '..');
const MARKER = '<!-- embedded-example -->';

/** The fenced code block that follows the marker line. */
function exampleFrom(readme: string): string {
  const lines = readme.split('\n');
  const at = lines.findIndex((l) => l.trim() === MARKER);
  if (at < 0) throw new Error(`README.md has no ${MARKER} line`);
  const open = lines.findIndex((l, i) => i > at && l.startsWith('```'));
  const close = lines.findIndex((l, i) => i > open && l.startsWith('```'));
  if (open < 0 || close < 0) throw new Error(`no fenced block after ${MARKER}`);
  return lines.slice(open + 1, close).join('\n');
}

t.test('the README embedded example runs as written', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'embedded', 'index.js'))) {
    // `npm test` builds first; a lone run of this file builds here.
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
  }
  const dir = join(ROOT, 'test', '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `readme-example-${process.pid}.mjs`);
  writeFileSync(file, exampleFrom(readFileSync(join(ROOT, 'README.md'), 'utf8')));
  t.teardown(() => rmSync(file, { force: true }));

  const output = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  const lines = output.trim().split('\n');
  t.equal(lines[0], 'true true true false', 'three grants, then a denial');
  t.match(lines[1] ?? '', /^allowed=false limit=3 remaining=0 retryAfterMs=\d+$/);
  const retryAfterMs = Number(/retryAfterMs=(\d+)/.exec(lines[1] ?? '')?.[1]);
  t.ok(
    retryAfterMs >= 1 && retryAfterMs <= 60_000,
    `retryAfterMs ${retryAfterMs} within the window`,
  );
  t.equal(lines[2], 'search: true false', 'a second rule set at run time');
  t.equal(lines[3], 'after reopen: false', 'the grants survived close and reopen');
  t.equal(lines[4], 'invalid_key', 'errors carry a stable code');
  t.equal(lines.length, 5);
});
