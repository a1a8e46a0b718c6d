// The HTTP layer's public surface: the lead builds a node's API from a RateLimitService.
export type { AllowTracer } from './allow-tracer.js';
export { type ApiOptions, bodyLimitBytes, buildApi } from './app.js';
export { createMetrics, type DrlMetrics, type MetricsOptions } from './metrics.js';
export * from './service.js';
