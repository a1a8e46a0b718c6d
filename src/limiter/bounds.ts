/**
 * Input bounds of the engine. They keep every stored quantity exact in its typed-array column:
 * timestamps are stored as Uint32 ms offsets from a per-key base, so a window (the longest any
 * live entry can outlive its newest neighbour) must fit in 32 bits.
 */

/** Largest limit (and largest cost): keeps sums of costs far below 2^53. */
export const LIMIT_MAX = 1_000_000_000;
/** Largest token-bucket burst. */
export const BURST_MAX = 1_000_000_000;
/** Longest window: 31 days (fits a Uint32 ms offset with room to spare). */
export const WINDOW_MS_MAX = 31 * 24 * 60 * 60 * 1000;
/** token-bucket arithmetic is exact in doubles while (limit + burst) * windowMs stays under this. */
export const TOKEN_BUCKET_PRODUCT_MAX = 2 ** 52;
/** Keys are 1..512 bytes of UTF-8. */
export const KEY_BYTES_MAX = 512;
/** Rule names are 1..128 bytes of UTF-8. */
export const RULE_NAME_BYTES_MAX = 128;
/** requestIds are 1..128 bytes of UTF-8. */
export const REQUEST_ID_BYTES_MAX = 128;
/** Exactly-once table: how long (command time) a requestId is remembered, at least. */
export const REQUEST_RETENTION_MS_DEFAULT = 10 * 60 * 1000;
/** Exactly-once table: how many requestIds are remembered at most (oldest dropped first). */
export const REQUESTS_MAX_DEFAULT = 100_000;
/** Eviction: how many (rule, key) windows are examined per applied command, amortised. */
export const SWEEP_SLOTS_PER_COMMAND = 1;
