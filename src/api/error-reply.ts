/**
 * Turns anything a route can throw into the contract's `{error, message}` with a stable
 * snake_case code and the status that code maps to. Schema failures name the offending field
 * (invalid_key, invalid_cost, ...) so callers can tell bad input apart without parsing text.
 */
import { type ErrorCode, isDrlError } from '../errors.js';

export interface ErrorReply {
  status: number;
  error: ErrorCode;
  message: string;
}

const fieldCodes: Record<string, ErrorCode> = {
  key: 'invalid_key',
  rule: 'invalid_rule',
  name: 'invalid_rule',
  limit: 'invalid_limit',
  windowMs: 'invalid_window',
  cost: 'invalid_cost',
  requestId: 'invalid_request_id',
  algorithm: 'invalid_algorithm',
  burst: 'invalid_burst',
};

interface AjvIssue {
  keyword?: string;
  instancePath?: string;
  params?: { missingProperty?: string; property?: string };
  message?: string;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: AjvIssue[];
  validationContext?: string;
}

/** The field an ajv issue is about: `/cost` -> cost, a missing property -> its name. */
function issueField(issue: AjvIssue): string | undefined {
  const missing = issue.params?.missingProperty;
  if (missing !== undefined) return missing;
  const path = issue.instancePath ?? '';
  const slash = path.indexOf('/', 1);
  return path.length > 1 ? path.slice(1, slash === -1 ? undefined : slash) : undefined;
}

function validationReply(err: FastifyLikeError, issues: AjvIssue[]): ErrorReply {
  const first = issues[0];
  const field = first ? issueField(first) : undefined;
  const code: ErrorCode = field ? (fieldCodes[field] ?? 'invalid_argument') : 'invalid_body';
  return { status: 400, error: code, message: err.message ?? 'invalid request' };
}

const bodyErrorCodes = new Set([
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  'FST_ERR_CTP_INVALID_JSON_BODY',
]);

export function errorReplyFor(raw: unknown): ErrorReply {
  if (isDrlError(raw)) {
    // not_leader reaching here means forwarding was impossible: to a caller that is unavailability.
    if (raw.code === 'not_leader')
      return { status: 503, error: 'unavailable', message: raw.message };
    return { status: raw.status, error: raw.code, message: raw.message };
  }
  const err = (raw ?? {}) as FastifyLikeError;
  if (Array.isArray(err.validation)) return validationReply(err, err.validation);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, error: 'body_too_large', message: 'request body exceeds 16 KiB' };
  }
  const status = err.statusCode ?? 500;
  if (err.code !== undefined && bodyErrorCodes.has(err.code)) {
    return { status: 400, error: 'invalid_body', message: err.message ?? 'invalid body' };
  }
  if (status === 400) return { status: 400, error: 'invalid_body', message: err.message ?? '' };
  if (status === 404) return { status: 404, error: 'not_found', message: err.message ?? '' };
  if (status >= 400 && status < 500) {
    return { status: 400, error: 'invalid_argument', message: err.message ?? 'bad request' };
  }
  return { status: 500, error: 'internal', message: 'internal error' };
}
