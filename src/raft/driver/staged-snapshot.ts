/**
 * A received snapshot kept on disk between "the Raft log now starts at its index" and "the state
 * machine holds it": written (fsync + rename) before the log store records the snapshot, removed
 * once the state machine restored it. If the process dies in between, the next start finds the
 * log past the state machine and restores from this file (etcd keeps its .snap file for the
 * same reason). Layout: u32 meta JSON length | meta JSON | u32 CRC-32 of data | data.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../../crc32.js';
import { DrlError } from '../../errors.js';
import type { SnapshotMeta } from '../types.js';

const fileName = 'snapshot-staged.bin';

export function writeStagedSnapshot(dir: string, meta: SnapshotMeta, data: Uint8Array): void {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(8 + metaBytes.length);
  head.writeUInt32BE(metaBytes.length, 0);
  metaBytes.copy(head, 4);
  head.writeUInt32BE(crc32(data), 4 + metaBytes.length);
  const tmp = join(dir, `${fileName}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, head);
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, fileName));
  syncDir(dir);
}

/** The staged snapshot, or null when there is none; a damaged file is storage_corrupt. */
export function readStagedSnapshot(dir: string): { meta: SnapshotMeta; data: Uint8Array } | null {
  let buf: Buffer;
  try {
    buf = readFileSync(join(dir, fileName));
  } catch {
    return null;
  }
  const corrupt = (why: string) => new DrlError('storage_corrupt', `${fileName}: ${why}`);
  if (buf.length < 8) throw corrupt('truncated');
  const metaLength = buf.readUInt32BE(0);
  if (8 + metaLength > buf.length) throw corrupt('truncated meta');
  const meta = JSON.parse(buf.subarray(4, 4 + metaLength).toString('utf8')) as SnapshotMeta;
  const checksum = buf.readUInt32BE(4 + metaLength);
  const data = buf.subarray(8 + metaLength);
  if (crc32(data) !== checksum) throw corrupt('checksum mismatch');
  return { meta, data };
}

export function removeStagedSnapshot(dir: string): void {
  rmSync(join(dir, fileName), { force: true });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
