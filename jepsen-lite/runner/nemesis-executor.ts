import { Rng } from '../gen/rng.js';
import type { Recorder } from '../history/recorder.js';
import type { Cluster } from './cluster.js';
import { httpJson } from './http.js';
import { partitionLinks } from './partitions.js';
import type { Fault, ScheduleStep } from './schedule.js';

/**
 * Applies a fault, returns how to undo it. Run-time targets (the leader) are resolved here;
 * every other choice comes from the schedule so a seed replays the same run.
 */
type Undo = () => Promise<void>;

function pickNodes(ids: string[], pick: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => ids[(pick + i) % ids.length]!);
}

async function leaderOr(cluster: Cluster, pick: number): Promise<string> {
  const leader = await cluster.leader();
  const ids = cluster.nodes.map((n) => n.id);
  return leader ?? ids[pick % ids.length]!;
}

async function apply(
  cluster: Cluster,
  fault: Fault,
  durationMs: number,
): Promise<{ undo: Undo; detail: string; nodes: string[] }> {
  const ids = cluster.nodes.map((n) => n.id);
  switch (fault.kind) {
    case 'kill': {
      const minority = Math.floor((ids.length - 1) / 2);
      const targets =
        fault.target === 'all'
          ? ids
          : fault.target === 'minority'
            ? pickNodes(ids, fault.pick, minority)
            : fault.target === 'leader'
              ? [await leaderOr(cluster, fault.pick)]
              : pickNodes(ids, fault.pick, 1);
      for (const id of targets) await cluster.kill(id);
      return {
        detail: `kill -9 ${fault.target}`,
        nodes: targets,
        undo: async () => {
          for (const id of targets) cluster.restart(id);
        },
      };
    }
    case 'pause': {
      const id =
        fault.target === 'leader'
          ? await leaderOr(cluster, fault.pick)
          : pickNodes(ids, fault.pick, 1)[0]!;
      cluster.signal(id, 'SIGSTOP');
      return {
        detail: `SIGSTOP ${fault.target}`,
        nodes: [id],
        undo: async () => cluster.signal(id, 'SIGCONT'),
      };
    }
    case 'pause-isolate': {
      const id = await leaderOr(cluster, fault.pick);
      cluster.signal(id, 'SIGSTOP');
      const links = ids
        .filter((x) => x !== id)
        .flatMap((x) => [
          { from: id, to: x },
          { from: x, to: id },
        ]);
      cluster.mesh.cut(links);
      // Wake it halfway, still cut off: the rest of the group has elected a new leader by then.
      const wake = setTimeout(() => cluster.signal(id, 'SIGCONT'), durationMs / 2);
      return {
        detail: `SIGSTOP leader ${id} + isolate, SIGCONT after ${Math.round(durationMs / 2)} ms`,
        nodes: [id],
        undo: async () => {
          clearTimeout(wake);
          if (cluster.node(id).paused) cluster.signal(id, 'SIGCONT');
          cluster.mesh.healAll();
        },
      };
    }
    case 'delay-kill-leader': {
      // Only a leader's death leaves followers holding entries they do not know committed.
      const id = await cluster.leader();
      if (id === null) return { detail: 'no leader: skipped', nodes: [], undo: async () => {} };
      for (const to of ids) if (to !== id) cluster.mesh.link(id, to).setDelay(fault.delayMs);
      // Entries keep committing meanwhile; the followers learn each commit delayMs late.
      await new Promise((r) => setTimeout(r, Math.min(1500, durationMs / 3)));
      // The kill closes the proxied connections, dropping what they still held.
      await cluster.kill(id);
      return {
        detail: `links out of leader ${id} delayed ${fault.delayMs}ms, then kill -9`,
        nodes: [id],
        undo: async () => {
          cluster.mesh.healAll();
          cluster.restart(id);
        },
      };
    }
    case 'partition': {
      const links = partitionLinks(fault.shape, ids, await cluster.leader(), new Rng(fault.seed));
      cluster.mesh.cut(links);
      return {
        detail: `${fault.shape}: ${links.map((l) => `${l.from}>${l.to}`).join(' ')}`,
        nodes: [],
        undo: async () => cluster.mesh.healAll(),
      };
    }
    case 'clock': {
      const id = pickNodes(ids, fault.pick, 1)[0]!;
      cluster.setClock(id, fault.offsetMs, fault.rate);
      return {
        detail: `clock ${fault.mode} offset=${fault.offsetMs}ms rate=${fault.rate}`,
        nodes: [id],
        undo: async () => cluster.setClock(id, 0, 1),
      };
    }
    case 'membership': {
      const leader = await cluster.leader();
      const id = pickNodes(
        ids.filter((x) => x !== leader),
        fault.pick,
        1,
      )[0]!;
      const via = leader ?? ids[0]!;
      const removed = await httpJson(
        'DELETE',
        `${cluster.url(via)}/cluster/members/${id}`,
        undefined,
        5000,
      ).then(
        (res) => res.status === 200,
        () => false,
      );
      // Wiping a node that is still a voter would make it forget its votes and log: not a
      // fault the service promises to survive, so a failed removal leaves the node alone.
      if (!removed)
        return {
          detail: `remove ${id} failed: left as is`,
          nodes: [],
          undo: async () => undefined,
        };
      return {
        detail: `remove and re-add ${id}`,
        nodes: [id],
        undo: async () => {
          await cluster.wipeAndJoin(id);
          const n = cluster.node(id);
          const now = (await cluster.leader()) ?? via;
          await httpJson(
            'POST',
            `${cluster.url(now)}/cluster/members`,
            { id, raft: `127.0.0.1:${n.raftPort}`, http: `127.0.0.1:${n.httpPort}` },
            5000,
          ).catch(() => undefined);
          // Its outgoing links bypass the proxies until it restarts with --peers.
          await cluster.restartThroughProxies(id, 10_000);
        },
      };
    }
    case 'transfer': {
      const leader = await cluster.leader();
      const others = ids.filter((x) => x !== leader);
      const to = pickNodes(others, fault.pick, 1)[0]!;
      if (leader !== null)
        await httpJson('POST', `${cluster.url(leader)}/cluster/leader`, { to }, 5000).catch(
          () => undefined,
        );
      return {
        detail: `transfer leadership ${leader} -> ${to}`,
        nodes: [to],
        undo: async () => undefined,
      };
    }
    case 'link': {
      const id = pickNodes(ids, fault.pick, 1)[0]!;
      for (const to of ids) {
        if (to === id) continue;
        cluster.mesh.link(id, to).setDelay(fault.delayMs);
        cluster.mesh.link(id, to).setLoss(fault.lossRate);
      }
      return {
        detail: `links out of ${id}: delay ${fault.delayMs}ms loss ${fault.lossRate}`,
        nodes: [id],
        undo: async () => cluster.mesh.healAll(),
      };
    }
  }
}

/** Runs the schedule from startMs (Date.now() base) until done or the deadline. */
export async function runSchedule(
  cluster: Cluster,
  recorder: Recorder,
  steps: readonly ScheduleStep[],
  startMs: number,
  deadlineMs: number,
): Promise<void> {
  for (const step of steps) {
    const waitMs = startMs + step.atMs - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    if (Date.now() >= deadlineMs) return;
    const name = step.fault.kind;
    let applied: Awaited<ReturnType<typeof apply>>;
    try {
      applied = await apply(cluster, step.fault, step.durationMs);
    } catch (err) {
      recorder.push({
        kind: 'nemesis',
        phase: 'start',
        name,
        detail: `failed: ${(err as Error).message}`,
        timeUs: recorder.now(),
      });
      recorder.push({ kind: 'nemesis', phase: 'stop', name, timeUs: recorder.now() });
      continue;
    }
    recorder.push({
      kind: 'nemesis',
      phase: 'start',
      name,
      detail: applied.detail,
      nodes: applied.nodes,
      timeUs: recorder.now(),
    });
    const holdMs = Math.min(step.durationMs, deadlineMs - Date.now());
    if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
    await applied.undo();
    recorder.push({ kind: 'nemesis', phase: 'stop', name, timeUs: recorder.now() });
  }
}
