/**
 * `drl serve` and `drl dev`, registered as a CLI extension so the client commands never load
 * Raft or SQLite (the node's modules are imported only when a server command runs). Flags are
 * the contract's; every bad flag is a one-line DrlError('invalid_argument').
 */
import { type Command, Option } from 'commander';
import { DrlError } from '../../errors.js';
import { SNAPSHOT_PAGES_DEFAULT } from '../../storage/limiter-snapshot-pages.js';
import { checkLogWrites } from '../../storage/open-raft-log.js';
import { LOG_STORE_KINDS, type LogStoreKind } from '../../storage/raft-log-storage.js';
import { LOG_WRITE_MODES, type LogWriteMode } from '../../storage/raft-log-store.js';
import type { CliIo } from '../io.js';
import { integer } from '../options.js';
import type { CommandExtension } from '../program.js';
import { tlsFilesFrom } from './tls-files.js';

const idPattern = /^[A-Za-z0-9_.-]{1,64}$/;

export function parseHostPort(value: string, flag: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (m === null || port < 1 || port > 65535) {
    throw new DrlError('invalid_argument', `${flag} must be HOST:PORT (got "${value}")`);
  }
  return value;
}

/** An address other machines can dial: HOST:PORT whose host is not a wildcard. */
function parseAdvertised(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  parseHostPort(value, flag);
  const host = value.slice(0, value.lastIndexOf(':'));
  if (host === '0.0.0.0' || host === '[::]') {
    throw new DrlError(
      'invalid_argument',
      `${flag} must name a host others can reach, not ${host}`,
    );
  }
  return value;
}

export function parsePeers(value: string): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const part of value.split(',').map((p) => p.trim())) {
    const eq = part.indexOf('=');
    const id = part.slice(0, eq);
    if (eq <= 0 || !idPattern.test(id)) {
      throw new DrlError(
        'invalid_argument',
        `--peers entries must be ID=HOST:PORT (got "${part}")`,
      );
    }
    if (id in peers) throw new DrlError('invalid_argument', `--peers names ${id} twice`);
    peers[id] = parseHostPort(part.slice(eq + 1), `--peers ${id}`);
  }
  return peers;
}

interface ServeFlags {
  id?: string;
  data?: string;
  http?: string;
  raft?: string;
  advertiseHttp?: string;
  advertiseRaft?: string;
  peers?: string;
  join?: boolean;
  token?: string;
  protectOps?: boolean;
  clusterSecretFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  testMode?: boolean;
  testClock?: string;
  testBugs?: string;
  traceEntries?: boolean;
  tickMs: number;
  electionTicks: number;
  requestTimeoutMs: number;
  snapshotEvery: number;
  snapshotPages: number;
  snapshotTail: number;
  commitBroadcast: 'eager' | 'piggyback';
  logWrites: LogWriteMode;
  logStore: LogStoreKind;
  logLevel: string;
}

function atLeastOne(value: number, flag: string): number {
  if (!(value >= 1))
    throw new DrlError('invalid_argument', `${flag} must be at least 1 (got ${value})`);
  return value;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '')
    throw new DrlError('invalid_argument', `${flag} is required`);
  return value;
}

async function serve(flags: ServeFlags, io: CliIo): Promise<void> {
  const { TEST_BUGS, startNode } = await import('./serve-node.js');
  const id = required(flags.id, '--id');
  if (!idPattern.test(id)) throw new DrlError('invalid_argument', `--id "${id}" is not a valid id`);
  if (flags.join === true && flags.peers !== undefined) {
    throw new DrlError('invalid_argument', '--join and --peers exclude each other');
  }
  const peers = flags.join === true ? {} : parsePeers(required(flags.peers, '--peers (or --join)'));
  if (flags.join !== true && !(id in peers)) {
    throw new DrlError('invalid_argument', `--peers must list this node (${id}) too`);
  }
  if (!flags.testMode && (flags.testClock !== undefined || flags.testBugs !== undefined)) {
    throw new DrlError('invalid_argument', '--test-clock and --test-bugs need --test-mode');
  }
  if (!flags.testMode && flags.traceEntries === true) {
    throw new DrlError('invalid_argument', '--trace-entries needs --test-mode');
  }
  const testBugs = (flags.testBugs ?? '').split(',').filter((b) => b !== '');
  for (const bug of testBugs) {
    if (!TEST_BUGS.has(bug)) {
      throw new DrlError(
        'invalid_argument',
        `unknown test bug "${bug}" (known: ${[...TEST_BUGS].join(', ')})`,
      );
    }
  }
  const token = flags.token ?? io.env.DRL_TOKEN;
  if (flags.protectOps === true && token === undefined) {
    throw new DrlError('invalid_argument', '--protect-ops needs --token (or DRL_TOKEN)');
  }
  // Checked here too (the node checks it when it opens the log): before any file is opened.
  checkLogWrites(flags.logStore, flags.logWrites);
  const node = await startNode({
    id,
    data: required(flags.data, '--data'),
    http: parseHostPort(required(flags.http, '--http'), '--http'),
    raft: parseHostPort(required(flags.raft, '--raft'), '--raft'),
    advertiseHttp: parseAdvertised(flags.advertiseHttp, '--advertise-http'),
    advertiseRaft: parseAdvertised(flags.advertiseRaft, '--advertise-raft'),
    peers,
    join: flags.join === true,
    token,
    protectOps: flags.protectOps === true,
    clusterSecretFile: flags.clusterSecretFile,
    tls: tlsFilesFrom(flags),
    testMode: flags.testMode === true,
    testClockFile: flags.testClock,
    testBugs,
    traceEntries: flags.traceEntries === true,
    tickMs: flags.tickMs,
    electionTicks: flags.electionTicks,
    requestTimeoutMs: flags.requestTimeoutMs,
    snapshotEveryEntries: atLeastOne(flags.snapshotEvery, '--snapshot-every'),
    snapshotPagesMax: atLeastOne(flags.snapshotPages, '--snapshot-pages'),
    snapshotTailEntries: flags.snapshotTail,
    commitBroadcast: flags.commitBroadcast,
    logWrites: flags.logWrites,
    logStore: flags.logStore,
    logLevel: flags.logLevel,
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      // Bounded: a graceful stop that hangs must not keep the process forever.
      setTimeout(() => process.exit(1), 5000).unref();
      node.stop().then(resolve, (err) => {
        io.err(`error: stop failed: ${(err as Error).message}`);
        process.exit(1);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function addServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run one node of a Raft group (see the contract for the flags)')
    .option('--id <id>', 'this node id')
    .option('--data <dir>', 'data directory (log, hard state, snapshots)')
    .option('--http <host:port>', 'HTTP API address')
    .option('--raft <host:port>', 'Raft address to listen on')
    .option(
      '--advertise-http <host:port>',
      'HTTP address other nodes and clients use (default --http; set it when --http binds 0.0.0.0)',
    )
    .option(
      '--advertise-raft <host:port>',
      'Raft address a joining peer is told to dial back (default --raft)',
    )
    .option('--peers <list>', 'ID=HOST:PORT of every initial member, itself included')
    .option('--join', 'start empty and wait to be added by a membership change')
    .option('--token <token>', 'bearer token required by the HTTP API (or DRL_TOKEN)')
    .option('--protect-ops', 'also require the token on /healthz, /readyz and /metrics')
    .option('--cluster-secret-file <file>', 'shared secret authenticating Raft peers')
    .option('--tls-cert <file>', 'PEM certificate: HTTPS API and mutual-TLS Raft links')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--tls-ca <file>', 'PEM CA that signs every member certificate')
    .option('--test-mode', 'allow the test hooks below')
    .option('--test-clock <file>', 'JSON {offsetMs, rate} applied to this node clocks')
    .option('--test-bugs <list>', 'named switches that break one safety rule each')
    // Diagnosis for `npm run bench -- --trace`: per-entry stage times on GET /test/entry-trace.
    .addOption(new Option('--trace-entries', 'record per-entry stage times').hideHelp())
    .addOption(new Option('--tick-ms <ms>', 'Raft tick').argParser(integer).default(20))
    .addOption(
      new Option('--election-ticks <n>', 'ticks before an election').argParser(integer).default(10),
    )
    .addOption(
      new Option('--request-timeout-ms <ms>', 'bound on each request')
        .argParser(integer)
        .default(3000),
    )
    .addOption(
      // The most entries between two snapshots: bounds the Raft log and a restart's replay
      // (100,000 entries: ~10 MB of log). Snapshots come sooner when many distinct keys change
      // (--snapshot-pages); a few thousand busy keys wait for this bound, each snapshot
      // writing every key once however often it changed.
      new Option('--snapshot-every <entries>', 'most entries between snapshots')
        .argParser(integer)
        .default(100_000),
    )
    .addOption(
      new Option(
        '--snapshot-pages <pages>',
        'snapshot sooner once it would rewrite about this many SQLite pages (4 KiB each)',
      )
        .argParser(integer)
        .default(SNAPSHOT_PAGES_DEFAULT),
    )
    .addOption(
      new Option('--snapshot-tail <entries>', 'log entries kept behind a snapshot for slow peers')
        .argParser(integer)
        .default(1024),
    )
    .addOption(
      new Option(
        '--commit-broadcast <mode>',
        'eager: an empty Raft message tells followers each commit; piggyback: the next one does',
      )
        .choices(['eager', 'piggyback'])
        .default('eager'),
    )
    .addOption(
      new Option(
        '--log-writes <mode>',
        'sync: commit and fsync the Raft log on the event loop; pool: fsync it on the thread pool; worker: write it from a worker thread',
      )
        .choices(LOG_WRITE_MODES)
        .default('sync'),
    )
    .addOption(
      new Option(
        '--log-store <kind>',
        'file: the Raft log in append-only segment files, one write and one fdatasync per batch (a SQLite log is migrated); sqlite: in one SQLite file (needed by --log-writes worker)',
      )
        .choices(LOG_STORE_KINDS)
        .default('file'),
    )
    .addOption(new Option('--log-level <level>', 'pino level').default('info'))
    // `--token` and `--tls-ca` are also the program's global options, which take them
    // wherever they appear on the line.
    .action((flags: ServeFlags, command: Command) => {
      const globals = command.optsWithGlobals() as ServeFlags;
      return serve(
        { ...flags, token: flags.token ?? globals.token, tlsCa: flags.tlsCa ?? globals.tlsCa },
        io,
      );
    });
}

/** drl dev gives every node its own values of these; a passed-through copy would clash. */
const devOwnedFlags = new Set(['--id', '--data', '--http', '--raft', '--peers']);

function addDev(program: Command): void {
  program
    .command('dev')
    .description('a local 3-node group on loopback (what npm start runs); Ctrl-C stops all')
    .addOption(
      new Option('--base-port <port>', 'HTTP on base+1.., Raft on base+1001..')
        .argParser(integer)
        .default(8000),
    )
    .addOption(new Option('--data <dir>', 'data directory').default('data'))
    .addOption(new Option('--nodes <n>', 'group size (3 or 5)').argParser(integer).default(3))
    .argument(
      '[serve-flags...]',
      'after --: flags for every drl serve (e.g. -- --snapshot-every 20000 --log-level warn)',
    )
    .action(
      async (serveArgs: string[], flags: { basePort: number; data: string; nodes: number }) => {
        if (flags.nodes !== 3 && flags.nodes !== 5) {
          throw new DrlError('invalid_argument', '--nodes must be 3 or 5');
        }
        const owned = serveArgs.find((a) => devOwnedFlags.has(a.split('=')[0]!));
        if (owned !== undefined) {
          throw new DrlError('invalid_argument', `${owned} is set by drl dev for each node`);
        }
        const { runDev } = await import('../dev.js');
        const code = await runDev({ ...flags, cliEntry: process.argv[1]!, serveArgs });
        process.exitCode = code;
      },
    );
}

export const serverCommands: CommandExtension = (program, io) => {
  addServe(program, io);
  addDev(program);
};
