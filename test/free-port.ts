/**
 * Ports for processes a test starts and that bind them later (a group draws all its ports
 * before any node binds): below the kernel's ephemeral range, bindable when drawn, and never
 * the same one twice in a process.
 */
import { createServer } from 'node:net';

function canBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** Ports freePort returned in this process. */
const handedOut = new Set<number>();

/**
 * A free port BELOW the kernel's ephemeral range (32768+): a port the kernel handed out for
 * port 0 can be taken again by any outgoing connection (or another test file) before the node
 * binds it, and a node that fails to bind leaves its port to a stranger. Random, so parallel
 * test files rarely meet; checked bindable.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    // Never the same port twice in one process: a cluster draws all its ports before any node
    // binds, so two of them could come out equal (~0.07 % per 3-node cluster, a few % per
    // suite: "listen EADDRINUSE" in failover.test.ts, 2026-12-04 21:33 UTC).
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port below 32000');
}

/**
 * A base port whose `base + offset` ports are all free by freePort's rules (below the ephemeral
 * range, bindable, never handed out before): for `drl dev`'s fixed layout.
 */
export async function freePortBlock(offsets: number[]): Promise<number> {
  const span = Math.max(...offsets);
  for (let i = 0; i < 200; i++) {
    const base = 10_000 + Math.floor(Math.random() * (22_000 - span));
    const ports = offsets.map((d) => base + d);
    if (ports.some((p) => handedOut.has(p))) continue;
    const bindable = await Promise.all(ports.map(canBind));
    if (!bindable.every(Boolean)) continue;
    for (const p of ports) handedOut.add(p);
    return base;
  }
  throw new Error('no free port block below 32000');
}
