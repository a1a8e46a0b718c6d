import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DrlError } from '../errors.js';
import { RaftFileLogStore } from './raft-file-log-store.js';
import type { LogStoreKind, RaftLogStorage } from './raft-log-storage.js';
import { type LogWriteMode, RaftLogStore } from './raft-log-store.js';
import { syncDirectory } from './sync-directory.js';

/** The SQLite log's file and the file log's directory in a node's data directory. */
export const SQLITE_LOG_NAME = 'raft-log.db';
export const FILE_LOG_NAME = 'raft-log';

export interface OpenRaftLogOptions {
  kind: LogStoreKind;
  writes: LogWriteMode;
  onSync?: (durationMs: number, entries: number) => void;
  warn: (message: string) => void;
}

/**
 * Opens the node's Raft log of the kind asked for. A data directory holding a SQLite log opened
 * as 'file' is migrated (copied into a directory built aside and renamed into place, then the
 * SQLite file renamed to raft-log.db.migrated); a file log opened as 'sqlite' is refused: going
 * back is not automatic.
 */
export function openRaftLog(dataDir: string, o: OpenRaftLogOptions): RaftLogStorage {
  const sqlitePath = join(dataDir, SQLITE_LOG_NAME);
  const fileDir = join(dataDir, FILE_LOG_NAME);
  if (o.kind === 'sqlite') {
    if (existsSync(fileDir)) {
      throw new DrlError(
        'invalid_argument',
        `${dataDir} holds a file Raft log (${FILE_LOG_NAME}/): start with --log-store file`,
      );
    }
    return RaftLogStore.open(sqlitePath, { onSync: o.onSync, warn: o.warn, writes: o.writes });
  }
  checkLogWrites(o.kind, o.writes);
  if (existsSync(sqlitePath)) {
    if (!existsSync(fileDir)) migrateSqliteLog(sqlitePath, fileDir, dataDir);
    // Migrated (possibly by a run that crashed before this rename): the directory wins.
    renameSync(sqlitePath, `${sqlitePath}.migrated`);
    syncDirectory(dataDir);
    o.warn(`${sqlitePath}: migrated to ${fileDir}/ and renamed to ${SQLITE_LOG_NAME}.migrated`);
  }
  return RaftFileLogStore.open(fileDir, { onSync: o.onSync, warn: o.warn });
}

/** The file log writes on the calling thread: a writer thread ('worker') needs SQLite. */
export function checkLogWrites(kind: LogStoreKind, writes: LogWriteMode): void {
  if (kind === 'file' && writes === 'worker') {
    throw new DrlError(
      'invalid_argument',
      '--log-writes worker needs --log-store sqlite (the file Raft log has no writer thread)',
    );
  }
}

/** Copies the SQLite log into a file log built in `${fileDir}.tmp`, renamed into place whole. */
function migrateSqliteLog(sqlitePath: string, fileDir: string, dataDir: string): void {
  const tmp = `${fileDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const from = RaftLogStore.open(sqlitePath, {});
  try {
    const to = RaftFileLogStore.open(tmp);
    try {
      const entries =
        from.lastIndex() >= from.firstIndex()
          ? from.entries(from.firstIndex(), from.lastIndex() + 1, Number.POSITIVE_INFINITY)
          : [];
      to.persist({ snapshot: from.snapshot, entries, hardState: from.hardState });
    } finally {
      to.close();
    }
  } finally {
    from.close();
  }
  renameSync(tmp, fileDir);
  syncDirectory(dataDir);
}
