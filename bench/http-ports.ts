/** Free loopback ports for the processes the benchmark starts that cannot take port 0. */
import { createServer } from 'node:net';

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** A port the kernel considers free right now (there is a small race until the user binds it). */
export async function freePort(): Promise<number> {
  const port = await tryListen(0);
  if (port === null) throw new Error('no free loopback port');
  return port;
}

/** A base port B such that every B + offset is free (for `drl dev --base-port`). */
export async function freeBasePort(offsets: number[], attemptsMax = 50): Promise<number> {
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const results = await Promise.all(offsets.map((o) => tryListen(base + o)));
    if (results.every((r) => r !== null)) return base;
  }
  throw new Error(`no free base port after ${attemptsMax} attempts`);
}
