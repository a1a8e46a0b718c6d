import { join } from 'node:path';
import t from 'tap';
import type { Command } from '../../src/limiter/types.js';
import { LimiterJournal } from '../../src/storage/limiter-journal.js';
import { openExclusiveDatabase } from '../../src/storage/sqlite-open.js';

const commands: Command[] = [
  { type: 'setRule', ts: 100, name: 'default', spec: { limit: 3, windowMs: 1000 } },
  { type: 'allow', ts: 101, key: 'a' },
  {
    type: 'allow',
    ts: 102,
    key: 'b',
    rule: 'api',
    cost: 2,
    limit: 5,
    windowMs: 10,
    requestId: 'r',
  },
  { type: 'setOverride', ts: 103, rule: 'default', key: 'a', spec: { limit: 9, windowMs: 9 } },
  { type: 'deleteOverride', ts: 104, rule: 'default', key: 'a' },
  { type: 'deleteRule', ts: 105, name: 'default' },
];

t.test('the journal returns what was appended, in order, across a reopen', async (t) => {
  const path = join(t.testdir(), 'state.db');
  const db = openExclusiveDatabase(path);
  const journal = new LimiterJournal(db);
  t.equal(journal.lastSeq(), 0);
  commands.forEach((c, i) => {
    journal.append(i + 1, c);
  });
  t.equal(journal.lastSeq(), commands.length);
  db.close();

  const reopened = openExclusiveDatabase(path);
  const again = new LimiterJournal(reopened);
  const entries = [...again.entriesAfter(0)];
  t.same(
    entries.map((e) => e.seq),
    [1, 2, 3, 4, 5, 6],
  );
  t.strictSame(
    entries.map((e) => e.command),
    commands,
    'absent optional fields stay absent',
  );
  t.same(
    [...again.entriesAfter(4)].map((e) => e.seq),
    [5, 6],
  );
  reopened.close();
});

t.test('truncation drops the covered prefix only', async (t) => {
  const db = openExclusiveDatabase(join(t.testdir(), 'state.db'));
  const journal = new LimiterJournal(db);
  commands.forEach((c, i) => {
    journal.append(i + 1, c);
  });
  journal.truncateThrough(4);
  t.same(
    [...journal.entriesAfter(0)].map((e) => e.seq),
    [5, 6],
  );
  journal.truncateThrough(6);
  t.same([...journal.entriesAfter(0)], []);
  t.equal(journal.lastSeq(), 0, 'an empty journal reports 0; the owner keeps its own sequence');
  journal.append(7, commands[1]!);
  t.throws(() => journal.append(7, commands[2]!), /UNIQUE/, 'a sequence number is written once');
  t.same(
    [...journal.entriesAfter(0)].map((e) => e.command),
    [commands[1]],
  );
  db.close();
});
