/**
 * A stand-in for `drl serve` used to test the harness itself (not the product): it speaks the
 * contract's flags and the HTTP subset the runner uses, sends heartbeats to its peers' Raft
 * addresses (so the proxy check sees traffic) and decides every /allow from its own in-memory
 * sliding log. One node is linearizable; several are not (each has its own state), which the
 * checkers must report. Run: node --import tsx jepsen-lite/runner/fake-node.ts serve --id n1 ...
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

const id = arg('--id') ?? 'n1';
const httpAddr = hostPort(arg('--http') ?? '127.0.0.1:0');
const raftAddr = hostPort(arg('--raft') ?? '127.0.0.1:0');
const peers = (arg('--peers') ?? '')
  .split(',')
  .filter(Boolean)
  .map((p) => {
    const [peer, addr] = p.split('=') as [string, string];
    return { id: peer, ...hostPort(addr) };
  })
  .filter((p) => p.id !== id);
const clockFile = arg('--test-clock');

let clockOffsetMs = 0;
let lastTs = 0;
let index = 0;
const windows = new Map<string, { ts: number; cost: number }[]>();
const decided = new Map<string, Record<string, unknown>>();

function nowTs(): number {
  if (clockFile !== undefined) {
    try {
      clockOffsetMs = (JSON.parse(readFileSync(clockFile, 'utf8')) as { offsetMs: number })
        .offsetMs;
    } catch {
      // Keep the previous offset while the file is being replaced.
    }
  }
  lastTs = Math.max(lastTs, Date.now() + clockOffsetMs);
  return lastTs;
}

function allow(body: {
  key: string;
  limit: number;
  windowMs: number;
  cost?: number;
  requestId?: string;
}): Record<string, unknown> {
  if (body.requestId !== undefined) {
    const prior = decided.get(body.requestId);
    if (prior !== undefined) return prior;
  }
  const ts = nowTs();
  const cost = body.cost ?? 1;
  const list = (windows.get(body.key) ?? []).filter((g) => ts - g.ts < body.windowMs);
  const used = list.reduce((s, g) => s + g.cost, 0);
  const allowed = used + cost <= body.limit;
  if (allowed) {
    list.push({ ts, cost });
    index++;
  }
  windows.set(body.key, list);
  const decision = {
    allowed,
    limit: body.limit,
    remaining: Math.max(0, body.limit - used - (allowed ? cost : 0)),
    resetMs: 0,
    retryAfterMs: allowed ? 0 : 1,
    index,
    ts,
  };
  if (body.requestId !== undefined) decided.set(body.requestId, decision);
  return decision;
}

net
  .createServer((s) => s.on('data', () => undefined).on('error', () => s.destroy()))
  .listen(raftAddr.port, raftAddr.host);

for (const peer of peers) {
  let socket: net.Socket | null = null;
  setInterval(() => {
    if (socket === null || socket.destroyed) {
      socket = net.connect(peer.port, peer.host);
      socket.on('error', () => socket?.destroy());
    }
    socket.write(`hb ${id}\n`);
  }, 100);
}

http
  .createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString();
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/cluster') {
        const leader = peers.length === 0 ? id : 'n1';
        res.end(
          JSON.stringify({
            id,
            role: leader === id ? 'leader' : 'follower',
            term: 1,
            leader,
            commitIndex: index,
            appliedIndex: index,
            members: [],
          }),
        );
      } else if (req.method === 'POST' && req.url === '/allow') {
        res.end(JSON.stringify(allow(JSON.parse(data))));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: 'not_found', message: req.url }));
      }
    });
  })
  .listen(httpAddr.port, httpAddr.host);
