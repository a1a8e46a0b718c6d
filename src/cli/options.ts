/** Shared option parsing: integers, endpoints, and the Client built from global options. */

import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { Client, DrlError } from '../client/index.js';
import type { CliIo } from './io.js';

export const defaultEndpoints = '127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003';

/** Whole numbers only; range checks are the server's (so the CLI and API agree on codes). */
export function integer(value: string): number {
  if (!/^-?\d{1,16}$/.test(value.trim())) throw new InvalidArgumentError('expected an integer');
  return Number(value);
}

export interface GlobalOptions {
  endpoints?: string;
  token?: string;
  tlsCa?: string;
  json?: boolean;
  timeoutMs?: number;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function endpointsOf(opts: GlobalOptions, io: CliIo): string[] {
  const raw = opts.endpoints ?? io.env.DRL_ENDPOINTS ?? defaultEndpoints;
  return raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
}

/** Runs `work` with a Client made from the global options, and always closes it. */
export async function withClient<T>(
  command: Command,
  io: CliIo,
  work: (client: Client, opts: GlobalOptions) => Promise<T>,
): Promise<T> {
  const opts = globals(command);
  const token = opts.token ?? io.env.DRL_TOKEN;
  const caFile = opts.tlsCa ?? io.env.DRL_TLS_CA;
  const client = new Client({
    endpoints: endpointsOf(opts, io),
    ...(token ? { token } : {}),
    ...(caFile ? { ca: readCa(caFile) } : {}),
    timeoutMs: opts.timeoutMs ?? 3000,
  });
  try {
    return await work(client, opts);
  } finally {
    await client.close();
  }
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DrlError('invalid_argument', `--tls-ca ${path}: ${(err as Error).message}`);
  }
}

/** Prints JSON (one line) under --json, else the human text. */
export function print(io: CliIo, opts: GlobalOptions, json: unknown, human: () => string): void {
  io.out(opts.json ? JSON.stringify(json) : human());
}
