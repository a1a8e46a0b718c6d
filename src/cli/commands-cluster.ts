/** `drl status` and `drl cluster add|remove|transfer`. */
import type { Command } from 'commander';
import { type Client, type ClusterStatus, DrlError } from '../client/index.js';
import { table } from './format.js';
import type { CliIo } from './io.js';
import { endpointsOf, print, withClient } from './options.js';

interface NodeAnswer {
  endpoint: string;
  status?: ClusterStatus;
  error?: string;
}

/** Bound on how many nodes `status` asks (endpoints plus the members they report). */
const nodesAskedMax = 16;

async function ask(client: Client, endpoint: string): Promise<NodeAnswer> {
  try {
    return { endpoint, status: await client.cluster(endpoint) };
  } catch (err) {
    return { endpoint, error: err instanceof DrlError ? err.code : String(err) };
  }
}

/** Asks every endpoint, then every member they report, each node once. */
async function gather(client: Client, endpoints: string[]): Promise<NodeAnswer[]> {
  const seen = new Set<string>();
  const norm = (e: string) => e.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const answers: NodeAnswer[] = [];
  let wave = endpoints.map(norm);
  while (wave.length > 0 && seen.size < nodesAskedMax) {
    const fresh = wave.filter((e) => !seen.has(e)).slice(0, nodesAskedMax - seen.size);
    for (const e of fresh) seen.add(e);
    const got = await Promise.all(fresh.map((e) => ask(client, e)));
    answers.push(...got);
    wave = got.flatMap(
      (a) => a.status?.members.flatMap((m) => (m.http ? [norm(m.http)] : [])) ?? [],
    );
  }
  // A node reached twice under two addresses is shown once.
  const byId = new Set<string>();
  return answers.filter((a) => !a.status || (!byId.has(a.status.id) && byId.add(a.status.id)));
}

function statusTable(answers: NodeAnswer[]): string {
  const commitMax = Math.max(0, ...answers.map((a) => a.status?.commitIndex ?? 0));
  const rows = answers.map((a) =>
    a.status
      ? [
          a.status.id,
          a.status.role,
          a.status.term,
          a.status.commitIndex,
          a.status.appliedIndex,
          commitMax - a.status.appliedIndex,
          a.status.leader,
          a.endpoint,
        ]
      : ['?', `unreachable (${a.error})`, null, null, null, null, null, a.endpoint],
  );
  return table(['ID', 'ROLE', 'TERM', 'COMMIT', 'APPLIED', 'LAG', 'LEADER', 'HTTP'], rows);
}

export function registerClusterCommands(program: Command, io: CliIo): void {
  program
    .command('status')
    .description(
      'every node: id, role, term, commit, applied, lag (behind the highest commit), leader',
    )
    .action(async (_flags: object, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const answers = await gather(client, endpointsOf(opts, io));
        if (!answers.some((a) => a.status)) {
          throw new DrlError(
            'unavailable',
            `no node answered at ${answers.map((a) => a.endpoint).join(',')}`,
          );
        }
        print(io, opts, answers, () => statusTable(answers));
      });
    });

  const cluster = program.command('cluster').description('membership and leadership');
  cluster
    .command('add')
    .description('add a member (it joins as a learner, then is promoted)')
    .argument('<id>', 'new member id')
    .requiredOption('--raft <host:port>', 'its Raft address')
    .option('--http <host:port>', 'its HTTP address')
    .action(async (id: string, flags: { raft: string; http?: string }, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const r = await client.addMember({
          id,
          raft: flags.raft,
          ...(flags.http ? { http: flags.http } : {}),
        });
        print(io, opts, r, () => `member ${id} added (index ${r.index})`);
      });
    });
  cluster
    .command('remove')
    .description('remove a member')
    .argument('<id>', 'member id')
    .action(async (id: string, _flags: object, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const r = await client.removeMember(id);
        print(io, opts, r, () => `member ${id} removed (index ${r.index})`);
      });
    });
  cluster
    .command('transfer')
    .description('hand leadership to another member')
    .argument('<id>', 'member id')
    .action(async (id: string, _flags: object, command: Command) => {
      await withClient(command, io, async (client, opts) => {
        const r = await client.transferLeader(id);
        print(io, opts, r, () => `leader is now ${r.leader}`);
      });
    });
}
