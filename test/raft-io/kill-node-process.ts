/**
 * Child process for raft-node-kill.test.ts: one RaftNode whose state machine lists applied
 * payloads; driven over IPC ({cmd:'status'|'propose'|'applied'}), killed with SIGKILL by the test.
 */
import pino from 'pino';
import { RaftNode } from '../../src/raft/driver/index.js';
import { EntryType } from '../../src/raft/types.js';

const { id, dataDir, port, peers, logWrites, logStore } = JSON.parse(process.argv[2]!) as {
  id: string;
  dataDir: string;
  port: number;
  peers: Record<string, string>;
  logWrites: 'sync' | 'worker' | 'pool';
  logStore: 'sqlite' | 'file';
};
const applied: string[] = [];
const node = new RaftNode<number>({
  id,
  dataDir,
  listen: { host: '127.0.0.1', port },
  peers,
  secret: 'kill-test-secret',
  logger: pino({ level: 'silent' }),
  stateMachine: {
    apply: (e) => {
      if (e.type === EntryType.Normal && e.data.length > 0)
        applied.push(Buffer.from(e.data).toString());
      return applied.length;
    },
  },
  tickMs: 20,
  electionTicks: 10,
  requestTimeoutMs: 3000,
  transport: { reconnectMinMs: 10, reconnectMaxMs: 100 },
  logWrites,
  logStore,
});

type Req =
  | { cmd: 'status' }
  | { cmd: 'applied' }
  | { cmd: 'propose'; prefix: string; count: number };

async function handle(req: Req): Promise<unknown> {
  if (req.cmd === 'status') return node.status();
  if (req.cmd === 'applied') return applied;
  const acked: string[] = [];
  await Promise.all(
    Array.from({ length: req.count }, (_, i) =>
      node.propose(Buffer.from(`${req.prefix}${i}`)).then(
        () => acked.push(`${req.prefix}${i}`),
        () => undefined,
      ),
    ),
  );
  return acked;
}

process.on('message', (m: { reqId: number; req: Req }) => {
  handle(m.req).then(
    (result) => process.send?.({ reqId: m.reqId, result }),
    (err: Error) => process.send?.({ reqId: m.reqId, error: err.message }),
  );
});
process.on('disconnect', () => process.exit(0));
await node.start();
process.send?.({ ready: true });
