/**
 * Times the checkers on a generated history (not a test: timings are noisy).
 *   npx tsx jepsen-lite/perf/check-generated.ts [ops=100000] [keys=50] [processes=16] [infoRate=0.01]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, summaryLine } from '../checker/check-history.js';
import { generateHistory } from '../gen/generate-history.js';
import { formatHistory, readHistory } from '../history/jsonl.js';

const [ops = 100_000, keys = 50, processes = 16, infoRate = 0.01] = process.argv
  .slice(2)
  .map(Number);
const dir = mkdtempSync(join(tmpdir(), 'jepsen-perf-'));
try {
  const path = join(dir, 'history.jsonl');
  const genStarted = Date.now();
  writeFileSync(
    path,
    formatHistory(
      generateHistory({
        seed: 42,
        ops,
        keys,
        processes,
        infoRate,
        retryRate: 0.05,
        limit: 10,
        windowMs: 50,
      }),
    ),
  );
  const genMs = Date.now() - genStarted;
  const started = Date.now();
  const lines = readHistory(path);
  const report = checkHistory(lines);
  const checkMs = Date.now() - started;
  console.log(summaryLine(report));
  console.log(
    `ops=${ops} keys=${keys} processes=${processes} infoRate=${infoRate} generate=${genMs}ms check=${checkMs}ms ` +
      `(linearizability ${report.linearizability.elapsedMs}ms, ${report.linearizability.steps} steps) load=${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
