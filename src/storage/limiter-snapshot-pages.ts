/**
 * What an incremental limiter snapshot costs SQLite, in pages, and so when one is due. A
 * snapshot rewrites every b-tree page holding a changed row: its WAL write (at commit, or when
 * the page cache spills) grows with the pages, not the rows. Changed keys spread over the whole
 * table, so the pages rewritten are about min(changed rows, pages of the table). With a few
 * thousand small keys every page is rewritten at each snapshot whatever its interval, so a long
 * interval costs no more per snapshot and writes each key once however often it changed (10,000
 * keys round robin: a snapshot every 2,000 entries wrote a row per entry, every 100,000 one per
 * 10); with a million keys each changed key is a page of its own, so the interval is what
 * bounds the commit (20,000 changed keys: a 57-100 ms turn; 2,000: 6-8 ms).
 */

/**
 * Bytes of a 4 KiB leaf page that hold rows: b-tree pages filled by random inserts run about
 * 70 % full. A row larger than this spills into overflow pages of its own.
 */
const PAGE_ROW_BYTES = 2800;

/**
 * A window row's bytes until a snapshot has measured them (store.windowRowBytes): rule, key and
 * a small record, ~68 B in the bench's state file; 88 makes 32 rows a page.
 */
export const WINDOW_ROW_BYTES_DEFAULT = 88;

/** A requestId row: id (<= 128 B), fingerprint, decision and indexes. */
export const REQUEST_ROW_BYTES = 200;

/** Default page budget: about 8 MB of WAL, what 2,000 changed keys cost a table of 1M keys. */
export const SNAPSHOT_PAGES_DEFAULT = 2000;

/**
 * Pages a snapshot rewrites for `changedRows` rows of `rowBytes` each in a table of about
 * `storedRows`: each changed row its own page(s) until every page of the table is counted.
 */
export function snapshotPages(changedRows: number, storedRows: number, rowBytes: number): number {
  const pagesPerRow = rowBytes / PAGE_ROW_BYTES;
  const tablePages = Math.ceil(Math.max(storedRows, changedRows) * pagesPerRow);
  return Math.min(Math.ceil(changedRows * Math.max(1, pagesPerRow)), tablePages);
}

/** What changed since the last snapshot, and how big the tables are. */
export interface SnapshotBacklog {
  changedWindows: number;
  storedWindows: number;
  /** Mean bytes of a window row (the last snapshot's, or WINDOW_ROW_BYTES_DEFAULT). */
  windowRowBytes: number;
  changedRequests: number;
  storedRequests: number;
}

/** Pages the next snapshot would rewrite: the window and requestId tables together. */
export function backlogPages(b: SnapshotBacklog): number {
  return (
    snapshotPages(b.changedWindows, b.storedWindows, b.windowRowBytes) +
    snapshotPages(b.changedRequests, b.storedRequests, REQUEST_ROW_BYTES)
  );
}
