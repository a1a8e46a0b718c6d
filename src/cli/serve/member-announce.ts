/**
 * A leader announces its own HTTP address in the log when it wins an election, so followers
 * can forward to it and clients can find it from any node's GET /cluster. It is a Normal entry
 * that the limiter never sees: its first byte (0xA0) differs from the command codec's version.
 * Not kept in snapshots: every new leader announces again.
 */
export const ANNOUNCE_TAG = 0xa0;

export interface Announce {
  id: string;
  http: string;
}

export function isAnnounce(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === ANNOUNCE_TAG;
}

export function encodeAnnounce(a: Announce): Uint8Array {
  const body = Buffer.from(JSON.stringify(a), 'utf8');
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = ANNOUNCE_TAG;
  body.copy(out, 1);
  return out;
}

export function decodeAnnounce(data: Uint8Array): Announce | null {
  try {
    const v = JSON.parse(Buffer.from(data.subarray(1)).toString('utf8')) as Partial<Announce>;
    return typeof v.id === 'string' && typeof v.http === 'string'
      ? { id: v.id, http: v.http }
      : null;
  } catch {
    return null;
  }
}

/**
 * With the 'skip-leader-noop' test bug, how long a new leader waits before announcing: the
 * announcement is an entry of its term and would do the skipped no-op's job at once.
 */
export const testBugAnnounceDelayMs = 1000;
