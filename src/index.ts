// The package's public entry: `import { RateLimiter, Client } from 'distributed-rate-limiter'`.

export { Client } from './client/index.js';
export {
  type AllowOptions,
  RateLimiter,
  type RateLimiterOptions,
  type UsageOptions,
} from './embedded/index.js';
export { DrlError, type ErrorCode, ErrorCodes, isDrlError } from './errors.js';
export type { Algorithm, Decision, OverrideSpec, RuleSpec, Usage } from './limiter/types.js';
