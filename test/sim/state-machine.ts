/**
 * The deterministic state machine the simulated nodes apply: an append-list per key. A write
 * appends its unique id to its key's list, so a read shows exactly which writes it observed.
 */
import { type Entry, EntryType } from '../../src/raft/types.js';

const WRITE_TAG = 0x57;

export interface WriteCommand {
  writeId: number;
  key: number;
}

export function encodeWrite(cmd: WriteCommand): Uint8Array {
  const data = new Uint8Array(6);
  data[0] = WRITE_TAG;
  data[1] = cmd.key;
  new DataView(data.buffer).setUint32(2, cmd.writeId, true);
  return data;
}

/** The write an entry carries, or null for a no-op or a membership change. */
export function decodeWrite(entry: Entry): WriteCommand | null {
  if (entry.type !== EntryType.Normal || entry.data.length === 0) return null;
  const data = entry.data;
  if (data.length !== 6 || data[0] !== WRITE_TAG) {
    throw new Error(`state machine: unknown command at index ${entry.index}`);
  }
  const writeId =
    ((data[2] as number) | ((data[3] as number) << 8) | ((data[4] as number) << 16)) +
    (data[5] as number) * 0x1000000;
  return { key: data[1] as number, writeId };
}

export class AppendListMachine {
  readonly lists: number[][];
  applied = 0;

  constructor(keys: number) {
    this.lists = [];
    for (let k = 0; k < keys; k++) this.lists.push([]);
  }

  apply(entry: Entry): WriteCommand | null {
    if (entry.index !== this.applied + 1) {
      throw new Error(`state machine: applied ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    const cmd = decodeWrite(entry);
    if (cmd !== null) this.lists[cmd.key]?.push(cmd.writeId);
    return cmd;
  }

  read(key: number): readonly number[] {
    return this.lists[key] ?? [];
  }
}
