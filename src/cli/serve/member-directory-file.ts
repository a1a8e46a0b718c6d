/**
 * The member directory kept beside the node's data (`members.json`). A node started with
 * `--join` learns its peers' Raft addresses only from membership entries and snapshots; once
 * the log is compacted past those entries a restart would leave it unable to dial anyone (a
 * 1-hour jepsen-lite campaign lost its whole group that way after every node had been re-added).
 * Written atomically (temp file, fsync, rename) so a crash leaves the old or the new file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DirectoryImage } from './member-directory.js';

const FILE_NAME = 'members.json';

export function loadDirectoryFile(dataDir: string): DirectoryImage | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, FILE_NAME), 'utf8');
  } catch {
    return null;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${join(dataDir, FILE_NAME)}: not a member directory`);
  }
  const out: DirectoryImage = {};
  for (const [id, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null) continue;
    const a = v as { raft?: unknown; http?: unknown };
    out[id] = {
      ...(typeof a.raft === 'string' ? { raft: a.raft } : {}),
      ...(typeof a.http === 'string' ? { http: a.http } : {}),
    };
  }
  return out;
}

export function saveDirectoryFile(dataDir: string, image: DirectoryImage): void {
  const path = join(dataDir, FILE_NAME);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(image));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
