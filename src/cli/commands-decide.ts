/** `drl allow KEY` and `drl keys get|override|clear-override`. */
import type { Command } from 'commander';
import { DrlError } from '../client/index.js';
import { decisionLine } from './format.js';
import type { CliIo } from './io.js';
import { integer, print, withClient } from './options.js';

interface AllowFlags {
  rule?: string;
  limit?: number;
  windowMs?: number;
  cost?: number;
  requestId?: string;
}

interface InlineFlags {
  limit?: number;
  windowMs?: number;
}

function inlineOf(flags: InlineFlags): { limit: number; windowMs: number } | undefined {
  const { limit, windowMs } = flags;
  if (limit === undefined && windowMs === undefined) return undefined;
  // The codes POST /allow answers a half inline limit with.
  if (windowMs === undefined) throw new DrlError('invalid_window', '--limit needs --window-ms');
  if (limit === undefined) throw new DrlError('invalid_limit', '--window-ms needs --limit');
  return { limit, windowMs };
}

export function registerDecideCommands(program: Command, io: CliIo): void {
  program
    .command('allow')
    .description('ask for one decision (records it); exits 0 whether allowed or denied')
    .argument('<key>', 'the key to limit (1..512 bytes)')
    .option('--rule <name>', 'configured rule (default "default")')
    .option('--limit <n>', 'inline limit (with --window-ms)', integer)
    .option('--window-ms <ms>', 'inline window in ms (with --limit)', integer)
    .option('--cost <n>', 'units this request costs (default 1)', integer)
    .option('--request-id <id>', 'idempotency id: a retry with it is counted once')
    .action(async (key: string, flags: AllowFlags, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const d = await client.check(key, flags);
        print(io, opts, d, () => decisionLine(d));
      });
    });

  const keys = program.command('keys').description('per-key usage and overrides');
  keys
    .command('get')
    .description('show what a key has used (records nothing)')
    .argument('<rule>', 'rule name')
    .argument('<key>', 'key')
    .option('--limit <n>', 'under an inline limit (with --window-ms), as allow takes it', integer)
    .option('--window-ms <ms>', "the inline limit's window in ms (with --limit)", integer)
    .action(async (rule: string, key: string, flags: InlineFlags, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const u = await client.usage(rule, key, inlineOf(flags));
        print(
          io,
          opts,
          u,
          () => `used=${u.used}  limit=${u.limit}  remaining=${u.remaining}  resetMs=${u.resetMs}`,
        );
      });
    });
  keys
    .command('override')
    .description('set a per-key limit that replaces the rule for this key')
    .argument('<rule>', 'rule name')
    .argument('<key>', 'key')
    .requiredOption('--limit <n>', 'limit', integer)
    .requiredOption('--window-ms <ms>', 'window in ms', integer)
    .action(
      async (
        rule: string,
        key: string,
        flags: { limit: number; windowMs: number },
        command: Command,
      ) => {
        await withClient(command, io, async (client, opts) => {
          const r = await client.setOverride(rule, key, {
            limit: flags.limit,
            windowMs: flags.windowMs,
          });
          print(io, opts, r, () => `override ${rule}/${key} set (index ${r.index})`);
        });
      },
    );
  keys
    .command('clear-override')
    .description('remove a per-key override')
    .argument('<rule>', 'rule name')
    .argument('<key>', 'key')
    .action(async (rule: string, key: string, _flags: object, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const r = await client.deleteOverride(rule, key);
        print(io, opts, r, () => `override ${rule}/${key} removed (index ${r.index})`);
      });
    });
}
