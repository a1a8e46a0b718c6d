export type { AllowOptions, RateLimiterOptions } from './options.js';
export { RateLimiter } from './rate-limiter.js';
