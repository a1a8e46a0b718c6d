/**
 * `--trace`: the log index an /allow answer names (`"index":N` in its JSON body), read without
 * parsing the body: the generator only needs it to join its timings with the nodes' stages.
 */
const marker = Buffer.from('"index":');
const zero = 0x30;
const nine = 0x39;

/** The first `"index":N` of the body, or 0 when there is none. */
export function answerIndex(body: Buffer): number {
  const at = body.indexOf(marker);
  if (at < 0) return 0;
  let n = 0;
  let i = at + marker.length;
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (c < zero || c > nine) break;
    n = n * 10 + (c - zero);
  }
  return i === at + marker.length ? 0 : n;
}
