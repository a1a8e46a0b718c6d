/**
 * Optional bearer-token check. Both sides are hashed to a fixed length first so the
 * constant-time compare leaks neither the token's content nor its length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = (authorization: string | undefined) => boolean;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function bearerCheck(token: string): TokenCheck {
  const expected = digest(token);
  return (authorization) => {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    return timingSafeEqual(digest(authorization.slice(7).trim()), expected);
  };
}
