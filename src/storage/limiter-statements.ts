import type Database from 'better-sqlite3';

/**
 * Whole-table reads, shared by the store and the snapshot stream reader so a new column is
 * added in one place. ORDER BY the primary key is free (WITHOUT ROWID tables scan in that order).
 */
export const SELECT_ALL_SQL = {
  meta: 'SELECT name, value FROM limiter_meta ORDER BY name',
  rules: 'SELECT name, lim, window_ms, algorithm, burst FROM limiter_rules ORDER BY name',
  overrides: 'SELECT rule, key, lim, window_ms FROM limiter_overrides ORDER BY rule, key',
  windows: 'SELECT rule, key, data FROM limiter_windows ORDER BY rule, key',
  requests:
    'SELECT id, fingerprint, ts, allowed, lim, remaining, reset_ms, retry_after_ms, seq, log_index FROM limiter_requests ORDER BY id',
} as const;

/**
 * Window rows one putWindows statement writes: under spread traffic a snapshot writes one window
 * row per applied entry, and a statement per row spent about a third of each row's CPU on the
 * call itself (bind, step, reset through the addon).
 */
export const WINDOW_BATCH_ROWS = 16;

/** Every statement the snapshot store runs, prepared once per connection. */
export function prepareLimiterStatements(db: Database.Database): LimiterStatements {
  return {
    getStore: db.prepare('SELECT value FROM limiter_store WHERE name = ?'),
    putStore: db.prepare('INSERT OR REPLACE INTO limiter_store (name, value) VALUES (?, ?)'),
    putMeta: db.prepare('INSERT OR REPLACE INTO limiter_meta (name, value) VALUES (?, ?)'),
    deleteMeta: db.prepare('DELETE FROM limiter_meta WHERE name = ?'),
    allMeta: db.prepare(SELECT_ALL_SQL.meta),
    putRule: db.prepare(
      'INSERT OR REPLACE INTO limiter_rules (name, lim, window_ms, algorithm, burst) VALUES (?, ?, ?, ?, ?)',
    ),
    deleteRule: db.prepare('DELETE FROM limiter_rules WHERE name = ?'),
    allRules: db.prepare(SELECT_ALL_SQL.rules),
    putOverride: db.prepare(
      'INSERT OR REPLACE INTO limiter_overrides (rule, key, lim, window_ms) VALUES (?, ?, ?, ?)',
    ),
    deleteOverride: db.prepare('DELETE FROM limiter_overrides WHERE rule = ? AND key = ?'),
    allOverrides: db.prepare(SELECT_ALL_SQL.overrides),
    putWindow: db.prepare(
      'INSERT OR REPLACE INTO limiter_windows (rule, key, data) VALUES (?, ?, ?)',
    ),
    putWindows: db.prepare(
      `INSERT OR REPLACE INTO limiter_windows (rule, key, data) VALUES ${Array(WINDOW_BATCH_ROWS).fill('(?, ?, ?)').join(', ')}`,
    ),
    deleteWindow: db.prepare('DELETE FROM limiter_windows WHERE rule = ? AND key = ?'),
    allWindows: db.prepare(SELECT_ALL_SQL.windows),
    putRequest: db.prepare(
      `INSERT OR REPLACE INTO limiter_requests
       (id, fingerprint, ts, allowed, lim, remaining, reset_ms, retry_after_ms, seq, log_index)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteRequest: db.prepare('DELETE FROM limiter_requests WHERE id = ?'),
    allRequests: db.prepare(SELECT_ALL_SQL.requests),
  };
}

export type LimiterStatements = Record<StatementName, Database.Statement>;

type StatementName =
  | 'getStore'
  | 'putStore'
  | 'putMeta'
  | 'deleteMeta'
  | 'allMeta'
  | 'putRule'
  | 'deleteRule'
  | 'allRules'
  | 'putOverride'
  | 'deleteOverride'
  | 'allOverrides'
  | 'putWindow'
  | 'putWindows'
  | 'deleteWindow'
  | 'allWindows'
  | 'putRequest'
  | 'deleteRequest'
  | 'allRequests';
