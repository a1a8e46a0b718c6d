/** `drl rules set|get|delete`. */
import type { Command } from 'commander';
import type { Algorithm, RuleSpec } from '../client/index.js';
import { table } from './format.js';
import type { CliIo } from './io.js';
import { integer, print, withClient } from './options.js';

interface SetFlags {
  limit: number;
  windowMs: number;
  algorithm?: Algorithm;
  burst?: number;
}

function ruleRows(rules: Record<string, RuleSpec>): string {
  const rows = Object.entries(rules)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, s]) => [name, s.limit, s.windowMs, s.algorithm ?? 'sliding-log', s.burst ?? null]);
  return table(['NAME', 'LIMIT', 'WINDOW_MS', 'ALGORITHM', 'BURST'], rows);
}

export function registerRuleCommands(program: Command, io: CliIo): void {
  const rules = program.command('rules').description('configured rules (replicated)');
  rules
    .command('set')
    .description('create or replace a rule')
    .argument('<name>', 'rule name')
    .requiredOption('--limit <n>', 'requests (cost units) per window', integer)
    .requiredOption('--window-ms <ms>', 'window in ms', integer)
    .option('--algorithm <name>', 'sliding-log (default) | sliding-counter | token-bucket')
    .option('--burst <n>', 'token-bucket only: extra requests at once', integer)
    .action(async (name: string, flags: SetFlags, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const spec: RuleSpec = { limit: flags.limit, windowMs: flags.windowMs };
        if (flags.algorithm !== undefined) spec.algorithm = flags.algorithm;
        if (flags.burst !== undefined) spec.burst = flags.burst;
        const r = await client.setRule(name, spec);
        print(io, opts, r, () => `rule ${name} set (index ${r.index})`);
      });
    });
  rules
    .command('get')
    .description('list rules, or show one')
    .argument('[name]', 'rule name')
    .action(async (name: string | undefined, _flags: object, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        if (name === undefined) {
          const all = await client.rules();
          print(io, opts, all, () => ruleRows(all));
          return;
        }
        const { name: _n, ...spec } = await client.rule(name);
        print(io, opts, { name, ...spec }, () => ruleRows({ [name]: spec }));
      });
    });
  rules
    .command('delete')
    .description('delete a rule')
    .argument('<name>', 'rule name')
    .action(async (name: string, _flags: object, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const r = await client.deleteRule(name);
        print(io, opts, r, () => `rule ${name} deleted (index ${r.index})`);
      });
    });
}
