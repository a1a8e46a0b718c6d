import type { Call, HistoryLine } from './types.js';

/**
 * Pairs each invoke with the next completion of the same process. An invoke left open at the
 * end of the history is indeterminate (info). A process must not invoke twice without a
 * completion in between (the recorder never does); that is a harness bug and throws.
 */
export function pairCalls(lines: readonly HistoryLine[]): Call[] {
  const open = new Map<number, Call>();
  const calls: Call[] = [];
  for (const line of lines) {
    if (line.kind !== 'op') continue;
    if (line.type === 'invoke') {
      if (open.has(line.process)) throw new Error(`process ${line.process} invoked twice`);
      const call: Call = {
        id: calls.length,
        process: line.process,
        op: line.op,
        status: 'info',
        invokeUs: line.timeUs,
        completeUs: Number.POSITIVE_INFINITY,
      };
      if (line.node !== undefined) call.node = line.node;
      open.set(line.process, call);
      calls.push(call);
      continue;
    }
    const call = open.get(line.process);
    if (call === undefined) throw new Error(`process ${line.process} completed without invoke`);
    open.delete(line.process);
    call.status = line.type;
    if (line.error !== undefined) call.error = line.error;
    if (line.type === 'info') continue; // indeterminate: may take effect at any later time
    if (line.timeUs < call.invokeUs) throw new Error('completion before invocation');
    call.completeUs = line.timeUs;
    if (line.type === 'ok') {
      if (line.result === undefined) throw new Error(`ok without result (process ${line.process})`);
      call.result = line.result;
    }
  }
  return calls;
}

/** Partition key: each (rule, key) is an independent object. */
export function partitionKey(call: { op: { rule: string; key: string } }): string {
  return `${call.op.rule}\u0000${call.op.key}`;
}

export function groupByKey(calls: readonly Call[]): Map<string, Call[]> {
  const groups = new Map<string, Call[]>();
  for (const call of calls) {
    const key = partitionKey(call);
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(call);
  }
  return groups;
}
