/**
 * Not the product: a sketch of the Raft log as one append-only file, to measure the floor a
 * file-based log store could reach against the SQLite one (src/storage/raft-log-store.ts).
 * One record per persist (entries + hard state, length and CRC-32 header), one fdatasync; no
 * reads, recovery, truncation or compaction. Just enough of RaftLogStore's surface for
 * bench/raft-store-cpu.ts:
 *   STORES="sqlite=src/storage/raft-log-store.ts,file=bench/raft-store-file-sketch.ts" \
 *     BATCHES=8,16,32 npx tsx bench/raft-store-cpu.ts
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { crc32 } from '../src/crc32.js';
import type { Entry, HardState } from '../src/raft/types.js';

const BUFFER_BYTES = 1 << 20;
const HEADER_BYTES = 8;
const ENTRY_HEADER_BYTES = 21;

export class RaftLogStore {
  private readonly fd: number;
  private last = 0;
  private readonly buf = Buffer.allocUnsafe(BUFFER_BYTES);

  static open(path: string): RaftLogStore {
    return new RaftLogStore(path);
  }

  private constructor(path: string) {
    this.fd = openSync(path.replace(/\.db$/, '.log'), 'w');
  }

  firstIndex(): number {
    return 1;
  }

  lastIndex(): number {
    return this.last;
  }

  compact(): void {}

  checkpointStats() {
    return { checkpoints: 0, mainCheckpoints: 0, walFrames: 0, lastMs: 0, lastMainMs: 0 };
  }

  persist(batch: { entries: Entry[]; hardState: HardState | null }): void {
    const b = this.buf;
    let at = HEADER_BYTES;
    for (const e of batch.entries) {
      b.writeDoubleLE(e.index, at);
      b.writeDoubleLE(e.term, at + 8);
      b.writeUInt8(e.type, at + 16);
      b.writeUInt32LE(e.data.length, at + 17);
      b.set(e.data, at + ENTRY_HEADER_BYTES);
      at += ENTRY_HEADER_BYTES + e.data.length;
      this.last = e.index;
    }
    if (batch.hardState) {
      b.writeDoubleLE(batch.hardState.term, at);
      b.writeDoubleLE(batch.hardState.commit, at + 8);
      at += 16;
    }
    b.writeUInt32LE(at - HEADER_BYTES, 0);
    b.writeUInt32LE(crc32(b, HEADER_BYTES, at), 4);
    writeSync(this.fd, b, 0, at);
    fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
