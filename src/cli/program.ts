/**
 * The `drl` command line. `buildProgram` makes the commander program with the client
 * commands; server commands (`serve`, `dev`) are added by extensions so this file (and the
 * client it uses) never loads Raft or SQLite. `runCli` turns every failure into one line on
 * stderr and a non-zero exit code: 2 for usage errors, 1 for everything else.
 */
import { Command, CommanderError, Option } from 'commander';
import { isDrlError } from '../errors.js';
import { registerClusterCommands } from './commands-cluster.js';
import { registerDecideCommands } from './commands-decide.js';
import { registerRuleCommands } from './commands-rules.js';
import { type CliIo, oneLine } from './io.js';
import { integer } from './options.js';

/** Adds commands to the program (the lead registers `serve` and `dev` this way). */
export type CommandExtension = (program: Command, io: CliIo) => void;

export const usageExitCode = 2;
export const failureExitCode = 1;

export function buildProgram(io: CliIo, extensions: readonly CommandExtension[] = []): Command {
  const program = new Command('drl')
    .description('distributed-rate-limiter: exact, replicated rate limiting')
    .addOption(
      new Option('--endpoints <list>', 'node HTTP addresses, comma-separated').env('DRL_ENDPOINTS'),
    )
    .addOption(new Option('--token <token>', 'bearer token').env('DRL_TOKEN'))
    .addOption(
      new Option('--tls-ca <file>', 'PEM CA trusted for https endpoints').env('DRL_TLS_CA'),
    )
    .option('--json', 'machine-readable output (one JSON document)')
    .option('--timeout-ms <ms>', 'bound on each call, retries included (default 3000)', integer)
    .showSuggestionAfterError(false);
  registerDecideCommands(program, io);
  registerRuleCommands(program, io);
  registerClusterCommands(program, io);
  for (const extend of extensions) extend(program, io);
  configure(program, io);
  return program;
}

/** Every command: throw instead of exiting, help to stdout, errors printed by runCli only. */
function configure(command: Command, io: CliIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => io.out(text.replace(/\n$/, '')),
    writeErr: () => {},
    outputError: () => {},
  });
  for (const sub of command.commands) configure(sub, io);
}

function usageMessage(err: CommanderError): string {
  // A command group called bare (`drl cluster`) "errors" by showing its help: say so in one line.
  if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
    return 'error: missing or unknown subcommand (see --help)';
  }
  return err.message.startsWith('error:') ? err.message : `error: ${err.message}`;
}

export async function runCli(
  argv: readonly string[],
  io: CliIo,
  extensions: readonly CommandExtension[] = [],
): Promise<number> {
  const program = buildProgram(io, extensions);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      io.err(oneLine(usageMessage(err)));
      return usageExitCode;
    }
    if (isDrlError(err)) io.err(oneLine(`error: ${err.code}: ${err.message}`));
    else io.err(oneLine(`error: internal: ${err instanceof Error ? err.message : String(err)}`));
    return failureExitCode;
  }
}
