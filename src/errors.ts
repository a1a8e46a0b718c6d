/**
 * Every error this project raises on purpose is a DrlError with a stable snake_case `code`
 * (the HTTP API returns it as `error`, the CLI prints it, the library exposes it as `.code`).
 * Codes are part of the contract: add new ones, never rename one.
 */
export const ErrorCodes = {
  invalid_key: 400,
  invalid_rule: 400,
  unknown_rule: 400,
  invalid_limit: 400,
  invalid_window: 400,
  invalid_cost: 400,
  invalid_algorithm: 400,
  invalid_burst: 400,
  invalid_request_id: 400,
  invalid_argument: 400,
  invalid_body: 400,
  body_too_large: 413,
  unauthorized: 401,
  not_found: 404,
  request_id_conflict: 409,
  unavailable: 503,
  not_leader: 503,
  closed: 500,
  storage_corrupt: 500,
  storage_locked: 500,
  storage_failed: 500,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class DrlError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status this error maps to. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DrlError';
    this.code = code;
    this.status = ErrorCodes[code];
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

export function isDrlError(value: unknown): value is DrlError {
  return value instanceof DrlError;
}
