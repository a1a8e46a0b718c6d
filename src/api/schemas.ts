/**
 * JSON schemas for every route, in and out. Input schemas carry the contract's bounds;
 * byte-length bounds (key <= 512 bytes, requestId <= 128 bytes) cannot be said in JSON
 * Schema (maxLength counts code points), so handlers check those (see validate-bytes.ts).
 * Output schemas make fast-json-stringify serialize responses and drop stray fields.
 */

const maxSafe = Number.MAX_SAFE_INTEGER;

const positiveInt = { type: 'integer', minimum: 1, maximum: maxSafe } as const;
const nonNegInt = { type: 'integer', minimum: 0, maximum: maxSafe } as const;
const ruleName = { type: 'string', minLength: 1, maxLength: 128 } as const;
const keyString = { type: 'string', minLength: 1, maxLength: 512 } as const;
const algorithm = { type: 'string', enum: ['sliding-log', 'sliding-counter', 'token-bucket'] };

export const errorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
} as const;

/** Every route answers errors in this shape; fastify picks a schema by status class. */
export const errorResponses = { '4xx': errorBody, '5xx': errorBody } as const;

export const okBody = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, index: { type: 'integer' } },
  required: ['ok', 'index'],
} as const;

export const allowBody = {
  type: 'object',
  properties: {
    key: keyString,
    rule: ruleName,
    limit: positiveInt,
    windowMs: positiveInt,
    cost: positiveInt,
    requestId: { type: 'string', minLength: 1, maxLength: 128 },
  },
  required: ['key'],
  dependencies: { limit: ['windowMs'], windowMs: ['limit'] },
} as const;

export const allowReply = {
  type: 'object',
  properties: {
    allowed: { type: 'boolean' },
    limit: { type: 'integer' },
    remaining: { type: 'integer' },
    resetMs: { type: 'integer' },
    retryAfterMs: { type: ['integer', 'null'] },
    index: { type: 'integer' },
    ts: { type: 'integer' },
  },
  required: ['allowed', 'limit', 'remaining', 'resetMs', 'retryAfterMs', 'index', 'ts'],
} as const;

export const ruleSpecBody = {
  type: 'object',
  properties: { limit: positiveInt, windowMs: positiveInt, algorithm, burst: nonNegInt },
  required: ['limit', 'windowMs'],
} as const;

export const overrideBody = {
  type: 'object',
  properties: { limit: positiveInt, windowMs: positiveInt },
  required: ['limit', 'windowMs'],
} as const;

const ruleSpecOut = {
  type: 'object',
  properties: {
    limit: { type: 'integer' },
    windowMs: { type: 'integer' },
    algorithm: { type: 'string' },
    burst: { type: 'integer' },
  },
  required: ['limit', 'windowMs'],
} as const;

export const rulesReply = {
  type: 'object',
  properties: { rules: { type: 'object', additionalProperties: ruleSpecOut } },
  required: ['rules'],
} as const;

export const ruleReply = {
  type: 'object',
  properties: { name: { type: 'string' }, ...ruleSpecOut.properties },
  required: ['name', 'limit', 'windowMs'],
} as const;

export const ruleParams = {
  type: 'object',
  properties: { name: ruleName },
  required: ['name'],
} as const;

export const overrideParams = {
  type: 'object',
  properties: { name: ruleName, key: keyString },
  required: ['name', 'key'],
} as const;

export const keyParams = {
  type: 'object',
  properties: { rule: ruleName, key: keyString },
  required: ['rule', 'key'],
} as const;

/** GET /keys/:rule/:key?limit=&windowMs=: an inline limit (query values are text: digits). */
const digits = { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } as const;
export const usageQuery = {
  type: 'object',
  properties: { limit: digits, windowMs: digits },
  dependencies: { limit: ['windowMs'], windowMs: ['limit'] },
} as const;

export const usageReply = {
  type: 'object',
  properties: {
    used: { type: 'integer' },
    limit: { type: 'integer' },
    remaining: { type: 'integer' },
    resetMs: { type: 'integer' },
  },
  required: ['used', 'limit', 'remaining', 'resetMs'],
} as const;

const memberOut = {
  type: 'object',
  properties: { id: { type: 'string' }, raft: { type: 'string' }, http: { type: 'string' } },
  required: ['id', 'raft'],
} as const;

export const clusterReply = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    term: { type: 'integer' },
    leader: { type: ['string', 'null'] },
    commitIndex: { type: 'integer' },
    appliedIndex: { type: 'integer' },
    members: { type: 'array', items: memberOut },
  },
  required: ['id', 'role', 'term', 'leader', 'commitIndex', 'appliedIndex', 'members'],
} as const;

const hostPort = { type: 'string', minLength: 3, maxLength: 261, pattern: '^[^\\s/]+:[0-9]{1,5}$' };

export const memberBody = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    raft: hostPort,
    http: hostPort,
  },
  required: ['id', 'raft'],
} as const;

export const memberParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['id'],
} as const;

export const transferBody = {
  type: 'object',
  properties: { to: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['to'],
} as const;

export const statusReply = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const;
