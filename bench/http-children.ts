/**
 * Every process the HTTP benchmark starts goes through here, so one `stopAll` (from `finally`
 * and from signal handlers) can end each of them by pid: SIGTERM, then SIGKILL after a grace.
 * Children get a piped stdin that closes when we die, which the Node children treat as "exit".
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Tracked {
  name: string;
  child: ChildProcess;
  /** The last lines of stderr, to explain a failure. */
  stderrTail: string[];
}

const running = new Set<Tracked>();
const stderrLinesMax = 20;
const stopGraceMs = 5_000;

export function spawnTracked(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions = {},
): Tracked {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  const t: Tracked = { name, child, stderrTail: [] };
  running.add(t);
  child.once('exit', () => running.delete(t));
  child.once('error', () => running.delete(t));
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      t.stderrTail.push(line);
      if (t.stderrTail.length > stderrLinesMax) t.stderrTail.shift();
    });
  }
  return t;
}

/** tsx's loader, resolved from here so children start whatever the current directory is. */
const tsxLoader = import.meta.resolve('tsx');

/** A Node child of ours run through tsx (`node --import tsx file`). */
export function spawnTsx(name: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const path = new URL(file, import.meta.url).pathname;
  return spawnTracked(name, process.execPath, ['--import', tsxLoader, path, ...args], {
    env: { ...process.env, ...env },
  });
}

function failure(t: Tracked, why: string): Error {
  return new Error(
    `${t.name}: ${why}${t.stderrTail.length ? `\n  ${t.stderrTail.join('\n  ')}` : ''}`,
  );
}

/** Resolves with the first stdout line that parses as a JSON object (the child's answer). */
export function firstJsonLine<T>(t: Tracked, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const stdout = t.child.stdout;
    if (!stdout) return reject(failure(t, 'no stdout'));
    const lines = createInterface({ input: stdout });
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      lines.close();
      t.child.off('exit', onExit);
      fn();
    };
    const onExit = (code: number | null): void => {
      // Let readline deliver a final line before treating the exit as a failure.
      setImmediate(() => done(() => reject(failure(t, `exited (${code}) before answering`))));
    };
    const timer = setTimeout(
      () => done(() => reject(failure(t, `no answer in ${timeoutMs} ms`))),
      timeoutMs,
    );
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const value = JSON.parse(line) as T;
        done(() => resolve(value));
      } catch {
        // not our line; keep reading
      }
    });
    t.child.once('exit', onExit);
  });
}

export function stop(t: Tracked, graceMs = stopGraceMs): Promise<void> {
  const { child } = t;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((t) => stopTree(t)));
}

/** pid and all its live descendants, from /proc (bounded walk). */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && tree.length < 256) {
    const p = stack.pop()!;
    tree.push(p);
    try {
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (kids) stack.push(...kids.split(' ').map(Number));
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return tree;
}

/** CPU seconds (user + system) used so far by pid and all its descendants, from /proc. */
export function cpuSecondsTree(pid: number): number {
  const ticksPerS = 100;
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerS;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** Stops t, then SIGKILLs any of its descendants (noted before the stop) still alive. */
export async function stopTree(t: Tracked, graceMs = stopGraceMs): Promise<void> {
  const pid = t.child.pid;
  const descendants = pid === undefined ? [] : processTree(pid).slice(1);
  await stop(t, graceMs);
  for (const p of descendants) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone: the usual case
    }
  }
}
