import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort, freePortBlock } from './free-port.js';

t.test(
  'ports are below the ephemeral range, distinct, and reserved for sibling processes',
  async (t) => {
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) ports.add(await freePort());
    const base = await freePortBlock([1, 2, 1001]);
    for (const p of [base + 1, base + 2, base + 1001]) ports.add(p);
    t.equal(ports.size, 23, 'never the same port twice');
    const dir = join(tmpdir(), `drl-ports-${process.ppid}`);
    for (const p of ports) {
      t.ok(p >= 10_000 && p < 32_000, `${p} below the ephemeral range`);
      // The file a sibling test process checks before it may hand the same port out.
      t.ok(existsSync(join(dir, String(p))), `${p} reserved in ${dir}`);
    }
  },
);
