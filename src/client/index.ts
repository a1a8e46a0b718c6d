// The network client of a replicated group. Imports no server code: no fastify, SQLite or Raft.
export { DrlError, type ErrorCode, isDrlError } from '../errors.js';
export { Client } from './client.js';
export type {
  Algorithm,
  AllowOptions,
  ClientDecision,
  ClientLogger,
  ClientOptions,
  ClusterStatus,
  Decision,
  MemberInfo,
  MutationResult,
  OnUnavailable,
  OverrideSpec,
  RuleSpec,
  Usage,
} from './types.js';
