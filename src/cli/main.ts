#!/usr/bin/env node
// The `drl` executable: runs the CLI and exits with its code.
import { processIo } from './io.js';
import { type CommandExtension, runCli } from './program.js';

// Server commands (`serve`, `dev`) are registered here by the node's module, kept out of
// program.ts so the client commands never load Raft or SQLite.
const extensions: CommandExtension[] = [];

process.exitCode = await runCli(process.argv.slice(2), processIo(), extensions);
