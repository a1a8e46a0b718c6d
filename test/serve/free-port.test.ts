// The integration harness's ports: bindable, below the ephemeral range, never handed out twice
// in one process (a cluster draws all its ports before any node binds).
import t from 'tap';
import { freePort } from './cluster-harness.js';

t.test('freePort never returns a port twice', async (t) => {
  const ports: number[] = [];
  for (let i = 0; i < 400; i++) ports.push(await freePort());
  t.equal(new Set(ports).size, ports.length, 'all distinct');
  t.ok(
    ports.every((p) => p >= 10_000 && p < 32_000),
    'below the ephemeral range',
  );
});
