import { appendFileSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Command } from '../../src/limiter/types.js';
import { LimiterJournalFile } from '../../src/storage/limiter-journal-file.js';

const commands: Command[] = [
  { type: 'setRule', ts: 100, name: 'default', spec: { limit: 3, windowMs: 1000 } },
  { type: 'allow', ts: 101, key: 'a' },
  { type: 'allow', ts: 102, key: 'b\t"\n\u00e9', rule: 'api', cost: 2, limit: 5, windowMs: 10 },
  { type: 'allow', ts: 103, key: 'c', requestId: 'r' },
  { type: 'setOverride', ts: 104, rule: 'default', key: 'a', spec: { limit: 9, windowMs: 9 } },
  { type: 'deleteOverride', ts: 105, rule: 'default', key: 'a' },
  { type: 'deleteRule', ts: 106, name: 'default' },
];

/** Appends like the embedded limiter: plain allows by appendAllow, the rest by append. */
function appendAll(journal: LimiterJournalFile, from: number, list: Command[]): void {
  list.forEach((c, i) => {
    const seq = from + i;
    if (c.type === 'allow' && c.requestId === undefined) {
      journal.appendAllow(seq, c.ts, c.key, c.rule, c.cost, c.limit, c.windowMs);
    } else journal.append(seq, c);
  });
}

function read(path: string, after = 0): Array<{ seq: number; command: Command }> {
  return [...new LimiterJournalFile(path, 'normal').entriesAfter(after)];
}

const files = (dir: string) => readdirSync(dir).sort();

/** Starts a file at each of `firsts`, with commands[seq - 1] for its seqs, through `last`. */
function writeFiles(journal: LimiterJournalFile, firsts: number[], last: number): void {
  for (const [i, first] of firsts.entries()) {
    journal.start(first);
    const end = firsts[i + 1] ?? last + 1;
    appendAll(journal, first, commands.slice(first - 1, end - 1));
  }
}

t.test('entries come back in order, across files and a reopen', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'state.db');
  const journal = new LimiterJournalFile(path, 'normal');
  writeFiles(journal, [1, 5], 7);
  journal.close();
  t.same(files(dir), ['state.db.journal-1', 'state.db.journal-5']);
  const all = read(path);
  t.same(
    all.map((e) => e.seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  t.same(
    all.map((e) => e.command),
    commands,
    'every field, keys with tabs, quotes and newlines',
  );
  t.same(
    read(path, 4).map((e) => e.seq),
    [5, 6, 7],
    'entriesAfter skips the covered ones',
  );
});

t.test(
  'a file of several read chunks (1 MiB) comes back whole, lines split across them',
  async (t) => {
    const path = join(t.testdir(), 'state.db');
    const journal = new LimiterJournalFile(path, 'normal');
    journal.start(1);
    const count = 30_000; // ~80 bytes a line: ~2.4 MB
    for (let seq = 1; seq <= count; seq++) {
      journal.appendAllow(seq, seq, `key-${seq}-${'é'.repeat(seq % 17)}`, 'api', 1, 5, 1000);
    }
    journal.close();
    const entries = read(path);
    t.equal(entries.length, count);
    let wrong = 0;
    for (const [i, e] of entries.entries()) {
      const seq = i + 1;
      const key = `key-${seq}-${'é'.repeat(seq % 17)}`;
      if (e.seq !== seq || e.command.type !== 'allow' || e.command.key !== key) wrong++;
    }
    t.equal(wrong, 0, 'every entry in order, keys intact');
  },
);

t.test('a committed snapshot deletes exactly the files it covers', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'state.db');
  const journal = new LimiterJournalFile(path, 'fsync');
  writeFiles(journal, [1, 3, 5], 4);
  journal.dropThrough(1);
  t.same(files(dir).length, 3, 'file 1 holds 2, which a snapshot through 1 does not cover');
  journal.dropThrough(3);
  t.same(files(dir), ['state.db.journal-3', 'state.db.journal-5']);
  journal.dropThrough(4);
  t.same(files(dir), ['state.db.journal-5'], 'the current file stays');
  journal.close();
  t.same(files(dir), [], 'an empty current file is deleted on close');
  t.throws(() => journal.appendAllow(5, 1, 'k', undefined, undefined, undefined, undefined), {
    code: 'internal',
  });
});

t.test('files are started in increasing order only', async (t) => {
  const journal = new LimiterJournalFile(join(t.testdir(), 'state.db'), 'normal');
  journal.start(5);
  t.throws(() => journal.start(5), { code: 'internal' });
  t.throws(() => journal.start(2), { code: 'internal' });
  journal.close();
});

/** Two files (seq 1-3, 4-7); returns the path and both file names. */
function twoFiles(dir: string): { path: string; first: string; last: string } {
  const path = join(dir, 'state.db');
  const journal = new LimiterJournalFile(path, 'normal');
  writeFiles(journal, [1, 4], 7);
  journal.close();
  return { path, first: `${path}.journal-1`, last: `${path}.journal-4` };
}

t.test('a torn last line of the last file is skipped (never acknowledged)', async (t) => {
  const cut = twoFiles(t.testdir());
  truncateSync(cut.last, readFileSync(cut.last).length - 3);
  t.same(
    read(cut.path).map((e) => e.seq),
    [1, 2, 3, 4, 5, 6],
    'cut before its newline',
  );

  const garbled = twoFiles(t.testdir());
  const text = readFileSync(garbled.last, 'utf8').replace('"deleteRule"', '"deleteRulf"');
  writeFileSync(garbled.last, text);
  t.same(read(garbled.path).length, 6, 'a bad checksum on the last line');
});

t.test('damage anywhere else is corruption, not a torn tail', async (t) => {
  const middle = twoFiles(t.testdir());
  const text = readFileSync(middle.last, 'utf8').replace('"setOverride"', '"setOverridf"');
  writeFileSync(middle.last, text);
  t.throws(() => read(middle.path), {
    code: 'storage_corrupt',
    message: /line 2: checksum mismatch/,
  });

  const earlier = twoFiles(t.testdir());
  truncateSync(earlier.first, readFileSync(earlier.first).length - 3);
  t.throws(() => read(earlier.path), { code: 'storage_corrupt', message: /no newline/ });

  const noChecksum = twoFiles(t.testdir());
  appendFileSync(noChecksum.first, '[4,1,"x",null,null,null,null]\n');
  t.throws(() => read(noChecksum.path), { code: 'storage_corrupt', message: /no checksum/ });
});
