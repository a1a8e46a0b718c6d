import type { AllowOp, AllowResult, HistoryLine } from '../history/types.js';
import { ReferenceLimiter } from './reference-limiter.js';
import { Rng } from './rng.js';

/**
 * Histories of a correct linearizable limiter: each op takes effect at a point inside its
 * interval (in order of those points, through the reference limiter), the server ts is that
 * point in ms, grants take consecutive log indexes and denials report the last applied index
 * (as lease-served denials do). Some ops are indeterminate (half of them took effect); some
 * carry a requestId and are retried after an indeterminate attempt.
 */
export interface GenerateOptions {
  seed: number;
  ops: number;
  keys: number;
  processes: number;
  limit: number;
  windowMs: number;
  costMax: number;
  infoRate: number;
  retryRate: number;
  latencyUsMax: number;
  gapUsMax: number;
}

export const defaultGenerateOptions: GenerateOptions = {
  seed: 1,
  ops: 200,
  keys: 3,
  processes: 4,
  limit: 4,
  windowMs: 20,
  costMax: 2,
  infoRate: 0.02,
  retryRate: 0.1,
  latencyUsMax: 3000,
  gapUsMax: 1500,
};

interface Planned {
  process: number;
  op: AllowOp;
  invUs: number;
  lpUs: number;
  doneUs: number;
  info: boolean;
  takesEffect: boolean;
  result?: AllowResult;
}

const tsBaseMs = 1_700_000_000_000;

function planOps(o: GenerateOptions, rng: Rng): Planned[] {
  const planned: Planned[] = [];
  const workerTimes = Array.from({ length: o.processes }, () => rng.int(0, o.gapUsMax));
  const workerProcess = Array.from({ length: o.processes }, (_, i) => i);
  const pendingRetry: (AllowOp | undefined)[] = new Array(o.processes).fill(undefined);
  let nextProcess = o.processes;
  let requestSeq = 0;
  for (let n = 0; n < o.ops; n++) {
    let w = 0;
    for (let i = 1; i < o.processes; i++) if (workerTimes[i]! < workerTimes[w]!) w = i;
    let op = pendingRetry[w];
    pendingRetry[w] = undefined;
    if (op === undefined) {
      op = {
        rule: 'r',
        key: `k${rng.int(0, o.keys - 1)}`,
        limit: o.limit,
        windowMs: o.windowMs,
        cost: rng.int(1, o.costMax),
      };
      if (rng.chance(o.retryRate)) op.requestId = `q${requestSeq++}`;
    }
    const invUs = workerTimes[w]!;
    const durUs = rng.int(50, o.latencyUsMax);
    const info = rng.chance(o.infoRate);
    planned.push({
      process: workerProcess[w]!,
      op,
      invUs,
      lpUs: invUs + rng.int(1, durUs - 1),
      doneUs: invUs + durUs,
      info,
      takesEffect: !info || rng.chance(0.5),
    });
    if (info) {
      workerProcess[w] = nextProcess++;
      if (op.requestId !== undefined) pendingRetry[w] = op;
    }
    workerTimes[w] = invUs + durUs + rng.int(1, o.gapUsMax);
  }
  return planned;
}

function decideAll(planned: Planned[]): void {
  const limiter = new ReferenceLimiter();
  const byRequest = new Map<string, AllowResult>();
  let index = 0;
  const order = planned.filter((p) => p.takesEffect).sort((a, b) => a.lpUs - b.lpUs);
  for (const p of order) {
    const prior = p.op.requestId === undefined ? undefined : byRequest.get(p.op.requestId);
    if (prior !== undefined) {
      p.result = prior;
      continue;
    }
    const ts = tsBaseMs + Math.floor(p.lpUs / 1000);
    const d = limiter.decide(p.op.key, p.op.limit, p.op.windowMs, p.op.cost, ts);
    const result: AllowResult = {
      allowed: d.allowed,
      remaining: d.remaining,
      ts,
      index: d.allowed ? ++index : index,
    };
    p.result = result;
    if (p.op.requestId !== undefined) byRequest.set(p.op.requestId, result);
  }
}

export function generateHistory(options: Partial<GenerateOptions> = {}): HistoryLine[] {
  const o = { ...defaultGenerateOptions, ...options };
  const rng = new Rng(o.seed);
  const planned = planOps(o, rng);
  decideAll(planned);
  const lines: HistoryLine[] = [];
  for (const p of planned) {
    lines.push({ kind: 'op', process: p.process, type: 'invoke', op: p.op, timeUs: p.invUs });
    if (p.info) {
      lines.push({
        kind: 'op',
        process: p.process,
        type: 'info',
        op: p.op,
        timeUs: p.doneUs,
        error: 'timeout',
      });
    } else {
      lines.push({
        kind: 'op',
        process: p.process,
        type: 'ok',
        op: p.op,
        timeUs: p.doneUs,
        result: p.result!,
      });
    }
  }
  return lines.sort(
    (a, b) => a.timeUs - b.timeUs || (a.kind === 'op' && a.type === 'invoke' ? -1 : 1),
  );
}
