// The integration harness's ports: bindable, below the ephemeral range, never handed out twice
// in one process (a cluster draws all its ports before any node binds).
import t from 'tap';
import { freePort, freePortBlock } from './cluster-harness.js';

t.test('freePort never returns a port twice', async (t) => {
  const ports: number[] = [];
  for (let i = 0; i < 400; i++) ports.push(await freePort());
  t.equal(new Set(ports).size, ports.length, 'all distinct');
  t.ok(
    ports.every((p) => p >= 10_000 && p < 32_000),
    'below the ephemeral range',
  );
});

t.test('freePortBlock gives a base whose ports none of freePort returns', async (t) => {
  const offsets = [1, 2, 3, 1001, 1002, 1003];
  const base = await freePortBlock(offsets);
  const block = new Set(offsets.map((d) => base + d));
  t.ok(base + 1003 < 32_000, 'below the ephemeral range');
  for (let i = 0; i < 300; i++) {
    if (block.has(await freePort())) {
      t.fail('freePort handed out a port of the block');
      return;
    }
  }
  t.pass('the block stays reserved');
});
