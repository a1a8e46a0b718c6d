/** Maps a server's `{error, message}` answer back to the typed DrlError it stands for. */
import { DrlError, type ErrorCode, ErrorCodes } from '../errors.js';

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value);
}

export function errorFromReply(status: number, body: unknown): DrlError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    error?: unknown;
    message?: unknown;
  };
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  if (isErrorCode(b.error)) return new DrlError(b.error, message);
  if (status === 503) return new DrlError('unavailable', message);
  if (status >= 500) return new DrlError('internal', message);
  return new DrlError('invalid_argument', message);
}
