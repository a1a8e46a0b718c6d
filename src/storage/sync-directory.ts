import { closeSync, fsyncSync, openSync } from 'node:fs';

/**
 * fsync of a directory: makes the names created, renamed or deleted in it durable (a file's own
 * fsync covers its content, not its directory entry).
 */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
