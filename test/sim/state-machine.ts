/**
 * The deterministic state machine the simulated nodes apply: an append-list per key. A write
 * appends its unique id to its key's list, so a read shows exactly which writes it observed.
 */
import { type Entry, EntryType } from '../../src/raft/types.js';
import { chainHash } from './entry-hash.js';

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

/** A state machine's durable copy (what a SQLite state machine keeps across a crash). */
export interface MachineImage {
  lists: number[][];
  applied: number;
  digest: number;
}

export class AppendListMachine {
  readonly lists: number[][];
  applied = 0;
  /** Hash chain of everything applied: equal digests at one index mean equal states. */
  digest = 0;

  constructor(keys: number, image?: MachineImage) {
    this.lists = [];
    for (let k = 0; k < keys; k++) this.lists.push(image?.lists[k]?.slice() ?? []);
    this.applied = image?.applied ?? 0;
    this.digest = image?.digest ?? 0;
  }

  image(): MachineImage {
    return { lists: this.lists.map((l) => l.slice()), applied: this.applied, digest: this.digest };
  }

  apply(entry: Entry): WriteCommand | null {
    if (entry.index !== this.applied + 1) {
      throw new Error(`state machine: applied ${entry.index} after ${this.applied}`);
    }
    this.applied = entry.index;
    this.digest = chainHash(this.digest, entry);
    const cmd = decodeWrite(entry);
    if (cmd !== null) this.lists[cmd.key]?.push(cmd.writeId);
    return cmd;
  }

  read(key: number): readonly number[] {
    return this.lists[key] ?? [];
  }
}
