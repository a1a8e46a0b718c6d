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
  return jsonLines(t, timeoutMs, (value) => value as T);
}

/**
 * Feeds each JSON-object line of t's stdout to `take` and resolves with the first value it
 * returns (undefined = keep reading), so a child can report progress before its answer.
 */
export function jsonLines<T>(
  t: Tracked,
  timeoutMs: number,
  take: (value: unknown) => T | undefined,
): Promise<T> {
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
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return; // not our line; keep reading
      }
      const taken = take(value);
      if (taken !== undefined) done(() => resolve(taken));
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
    // A parked (SIGSTOPped) child only acts on SIGTERM once continued.
    child.kill('SIGCONT');
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

/** USER_HZ: the unit of /proc CPU times (100 on every Linux this runs on). */
const ticksPerS = 100;

/** CPU seconds (user + system) used so far by one process, 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerS;
  } catch {
    return 0; // the process ended meanwhile
  }
}

/** CPU seconds (user + system) used so far by pid and all its descendants, from /proc. */
export function cpuSecondsTree(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/**
 * CPU seconds every process on the machine has spent busy so far, all cores summed (/proc/stat:
 * user nice system irq softirq steal; idle and iowait are not busy).
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((s, v) => s + (v ?? 0), 0);
  return busy / ticksPerS;
}

/** Sends signal to pid and all its descendants; SIGSTOP/SIGCONT park and wake a whole target. */
export function signalTree(pid: number, signal: NodeJS.Signals): void {
  for (const p of processTree(pid)) {
    try {
      process.kill(p, signal);
    } catch {
      // the process ended meanwhile
    }
  }
}

/** The pid among pid's descendants whose command line holds `--id <id>` (a drl serve node). */
export function descendantWithId(pid: number, id: string): number | undefined {
  for (const p of processTree(pid).slice(1)) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--id');
      if (at >= 0 && argv[at + 1] === id) return p;
    } catch {
      // the process ended meanwhile
    }
  }
  return undefined;
}

/** Stops t, then SIGKILLs any of its descendants (noted before the stop) still alive. */
export async function stopTree(t: Tracked, graceMs = stopGraceMs): Promise<void> {
  const pid = t.child.pid;
  const descendants = pid === undefined ? [] : processTree(pid).slice(1);
  // A target parked with SIGSTOP would hold SIGTERM pending until the grace runs out.
  if (pid !== undefined) signalTree(pid, 'SIGCONT');
  await stop(t, graceMs);
  for (const p of descendants) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone: the usual case
    }
  }
}

/**
 * Seconds pid's main thread (Node's event loop) has spent runnable but waiting for a CPU so far
 * (/proc/<pid>/schedstat, second field, ns): on a shared 2-core machine, the time a process was
 * descheduled while it had work, a delay nobody inside the process can see. 0 once it is gone.
 */
export function runQueueSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0) / 1e9;
  } catch {
    return 0; // the process ended meanwhile
  }
}
