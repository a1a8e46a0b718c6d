export type { AllowOptions, RateLimiterOptions, UsageOptions } from './options.js';
export { RateLimiter } from './rate-limiter.js';
