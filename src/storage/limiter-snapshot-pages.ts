/**
 * What an incremental limiter snapshot costs SQLite, in pages, and so when one is due. A
 * snapshot rewrites every b-tree page holding a changed row: its WAL write (at commit, or when
 * the page cache spills) grows with the pages, not the rows. Changed keys spread over the whole
 * table, so the pages rewritten are about min(changed rows, pages of the table). With a few
 * thousand keys every page is rewritten at each snapshot whatever its interval, so a long
 * interval costs no more per snapshot and writes each key once however often it changed (10,000
 * keys round robin: a snapshot every 2,000 entries wrote a row per entry, every 100,000 one per
 * 10); with a million keys each changed key is a page of its own, so the interval is what
 * bounds the commit (20,000 changed keys: a 57-100 ms turn; 2,000: 6-8 ms).
 */

/** Rows of the window or requestId tables per 4 KiB leaf page, on the low side (rows ~60-120 B). */
export const SNAPSHOT_ROWS_PER_PAGE = 32;

/** Default page budget: about 8 MB of WAL, what 2,000 changed keys cost a table of 1M keys. */
export const SNAPSHOT_PAGES_DEFAULT = 2000;

/** Pages a snapshot rewrites for `changedRows` rows of a table holding about `storedRows`. */
export function snapshotPages(changedRows: number, storedRows: number): number {
  return Math.min(
    changedRows,
    Math.ceil(Math.max(storedRows, changedRows) / SNAPSHOT_ROWS_PER_PAGE),
  );
}

export interface SnapshotBacklog {
  /** Applied entries since the last snapshot. */
  entries: number;
  changedWindows: number;
  storedWindows: number;
  changedRequests: number;
  storedRequests: number;
}

export interface SnapshotLimits {
  /** A snapshot at most this many entries apart (bounds the log and a restart's replay). */
  entriesMax: number;
  /** And sooner once it would rewrite this many pages (bounds its commit and WAL). */
  pagesMax: number;
}

/** Why a snapshot is due now, or null. */
export function snapshotDue(
  b: SnapshotBacklog,
  limits: SnapshotLimits,
): 'entries' | 'pages' | null {
  if (b.entries >= limits.entriesMax) return 'entries';
  const pages =
    snapshotPages(b.changedWindows, b.storedWindows) +
    snapshotPages(b.changedRequests, b.storedRequests);
  return pages >= limits.pagesMax ? 'pages' : null;
}
