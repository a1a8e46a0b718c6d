/**
 * Ports for processes that bind them later (a group draws all its ports before any node binds):
 * below the kernel's ephemeral range, bindable when drawn, and never handed out twice among
 * the processes of one run. Used by jepsen-lite's cluster and by the tests (test/free-port.ts).
 *
 * Why below the ephemeral range (32768+): a port the kernel handed out for port 0 can be taken
 * by any outgoing connection before the node binds it. Why a reservation across processes: tap
 * runs two test files at once, and a port one file's node left free while restarting could be
 * drawn by the other file (seen: "listen EADDRINUSE" on a restart in log-writes.test.ts).
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PORT_MIN = 10_000;
const PORT_SPAN = 22_000;
const DRAWS_MAX = 200;
/** Reservation directories of runs older than this are removed when a new one starts. */
const STALE_RUN_MS = 3_600_000;
const RUN_PREFIX = 'drl-ports-';

function canBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * The run's reservation directory: one per parent process (the tap runner of the test files,
 * or the shell of one jepsen run), so that sibling processes see each other's ports.
 */
let runDir: string | null = null;
function reservations(): string {
  if (runDir !== null) return runDir;
  const dir = join(tmpdir(), `${RUN_PREFIX}${process.ppid}`);
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(RUN_PREFIX) || name === `${RUN_PREFIX}${process.ppid}`) continue;
    try {
      const path = join(tmpdir(), name);
      if (Date.now() - statSync(path).mtimeMs > STALE_RUN_MS)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
  mkdirSync(dir, { recursive: true });
  runDir = dir;
  return dir;
}

/** Reserves `port` for this run; false if a sibling process (or this one) already has it. */
function reserve(port: number): boolean {
  try {
    closeSync(openSync(join(reservations(), String(port)), 'wx'));
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < DRAWS_MAX; i++) {
    const port = PORT_MIN + Math.floor(Math.random() * PORT_SPAN);
    if (reserve(port) && (await canBind(port))) return port;
  }
  throw new Error(`no free port in [${PORT_MIN}, ${PORT_MIN + PORT_SPAN})`);
}

/**
 * A base port whose `base + offset` ports are all free by freePort's rules: for `drl dev`'s
 * fixed layout.
 */
export async function freePortBlock(offsets: number[]): Promise<number> {
  const span = Math.max(...offsets);
  for (let i = 0; i < DRAWS_MAX; i++) {
    const base = PORT_MIN + Math.floor(Math.random() * (PORT_SPAN - span));
    const ports = offsets.map((d) => base + d);
    if (!ports.every(reserve)) continue;
    const bindable = await Promise.all(ports.map(canBind));
    if (bindable.every(Boolean)) return base;
  }
  throw new Error('no free port block');
}
