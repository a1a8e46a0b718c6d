/**
 * A received snapshot kept on disk between "the Raft log now starts at its index" and "the state
 * machine holds it": written (fsync + rename) before the log store records the snapshot, removed
 * once the state machine restored it. If the process dies in between, the next start finds the
 * log past the state machine and restores from this file (etcd keeps its .snap file for the
 * same reason). Layout: u32 meta JSON length | meta JSON | u32 CRC-32 of data | data.
 *
 * A snapshot being received is written straight into `<name>.part` (never held in memory),
 * sealed (CRC, fsync) and renamed `<name>.received` once complete and verified, then renamed to
 * the staged name when the driver installs it.
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
import { syncDirectory } from '../../storage/sync-directory.js';
import type { SnapshotMeta } from '../types.js';

const fileName = 'snapshot-staged.bin';
const partName = `${fileName}.part`;
const receivedName = `${fileName}.received`;

/** The file a snapshot is received into, chunk by chunk. */
export class ReceivingSnapshotFile {
  private fd: number;
  private readonly crcAt: number;
  private at: number;

  /** Truncates any earlier partial stream and writes the header (CRC filled in by seal). */
  constructor(
    private readonly dir: string,
    meta: SnapshotMeta,
  ) {
    const head = stagedHead(meta, 0);
    this.fd = openSync(join(dir, partName), 'w');
    writeAll(this.fd, head, 0);
    this.crcAt = head.length - 4;
    this.at = head.length;
  }

  append(bytes: Uint8Array): void {
    writeAll(this.fd, bytes, this.at);
    this.at += bytes.length;
  }

  /**
   * Writes the verified CRC and renames the file to "received". No fsync here: the answer to
   * the final chunk must not wait for the disk (the leader would count a slow fsync as a
   * stalled stream); stageReceivedSnapshot syncs before the log records the snapshot.
   */
  seal(crc: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(crc, 0);
    writeAll(this.fd, b, this.crcAt);
    this.close();
    renameSync(join(this.dir, partName), join(this.dir, receivedName));
  }

  discard(): void {
    this.close();
    rmSync(join(this.dir, partName), { force: true });
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The received snapshot becomes the staged one (file fsync, rename, directory fsync). */
export function stageReceivedSnapshot(dir: string): void {
  const fd = openSync(join(dir, receivedName), 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(join(dir, receivedName), join(dir, fileName));
  syncDirectory(dir);
}

/** Leftovers of a stream the last run did not finish. */
export function removeReceivingSnapshot(dir: string): void {
  rmSync(join(dir, partName), { force: true });
  rmSync(join(dir, receivedName), { force: true });
}

function stagedHead(meta: SnapshotMeta, crc: number): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(8 + metaBytes.length);
  head.writeUInt32BE(metaBytes.length, 0);
  metaBytes.copy(head, 4);
  head.writeUInt32BE(crc, 4 + metaBytes.length);
  return head;
}

export function writeStagedSnapshot(dir: string, meta: SnapshotMeta, data: Uint8Array): void {
  const head = stagedHead(meta, crc32(data));
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
  syncDirectory(dir);
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

function writeAll(fd: number, bytes: Uint8Array, position?: number): void {
  let at = 0;
  while (at < bytes.length) {
    const pos = position === undefined ? null : position + at;
    at += writeSync(fd, bytes, at, bytes.length - at, pos);
  }
}
