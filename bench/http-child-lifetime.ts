/**
 * Bounds the life of a benchmark child process: it exits when its parent closes our stdin
 * (including when the parent is SIGKILLed) and, whatever happens, after `lifetimeMsMax`.
 */
export function exitWithParent(lifetimeMsMax: number, onExit: () => Promise<void> | void): void {
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    Promise.resolve()
      .then(onExit)
      .catch(() => {})
      .finally(() => process.exit(code));
  };
  process.stdin.on('end', () => exit(0));
  process.stdin.on('close', () => exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => exit(0));
  process.on('SIGINT', () => exit(0));
  setTimeout(() => exit(2), lifetimeMsMax).unref();
}

/** The one line a service child prints once it listens; the parent waits for it. */
export function announceReady(port: number): void {
  process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid })}\n`);
}
