import type { ConfChange, ConfChangeType } from '../types.js';

const types: readonly ConfChangeType[] = ['addLearner', 'promote', 'remove'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a ConfChange as the data of a ConfChange entry (JSON; rare and small). */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const context = change.context ? Buffer.from(change.context).toString('base64') : undefined;
  return encoder.encode(JSON.stringify({ type: change.type, id: change.id, context }));
}

/** Decodes a ConfChange entry's data; null when it is not a valid change (applied as a no-op). */
export function decodeConfChange(data: Uint8Array): ConfChange | null {
  try {
    const raw = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
    if (!types.includes(raw.type as ConfChangeType) || typeof raw.id !== 'string') return null;
    const change: ConfChange = { type: raw.type as ConfChangeType, id: raw.id };
    if (typeof raw.context === 'string') {
      change.context = new Uint8Array(Buffer.from(raw.context, 'base64'));
    }
    return change;
  } catch {
    return null;
  }
}
