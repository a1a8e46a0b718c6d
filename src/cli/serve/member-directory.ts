/**
 * Who the members are and where to reach them: Raft addresses from `--peers` and from the
 * replicated membership changes (their context carries `{raft, http}`), HTTP addresses from
 * those contexts, leaders' announcements and this node's own flags; failing those, the HTTP
 * address a peer gave in its Raft handshake (heard, advisory: not in snapshots, never over a
 * replicated one). Used for GET /cluster and for forwarding.
 */
import type { MemberInfo } from '../../api/service.js';
import type { ConfChange } from '../../raft/types.js';

/** What a snapshot carries of the directory: id -> addresses. */
export type DirectoryImage = Record<string, { raft?: string; http?: string }>;

export class MemberDirectory {
  private readonly raft = new Map<string, string>();
  private readonly http = new Map<string, string>();
  /** HTTP addresses peers gave in their Raft handshakes (metaOf). */
  private readonly heard = new Map<string, string>();

  constructor(peers: Record<string, string>, self: { id: string; http: string; raft: string }) {
    for (const [id, address] of Object.entries(peers)) this.raft.set(id, address);
    // Its own Raft address too: this node's snapshots carry the directory to others.
    if (!this.raft.has(self.id)) this.raft.set(self.id, self.raft);
    this.http.set(self.id, self.http);
  }

  /** Learns addresses from an applied membership change. */
  onConfChange(change: ConfChange): void {
    if (change.type === 'remove' || change.context === undefined) return;
    const ctx = parseContext(change.context);
    if (ctx.raft !== undefined && !this.raft.has(change.id)) this.raft.set(change.id, ctx.raft);
    if (ctx.http !== undefined) this.http.set(change.id, ctx.http);
  }

  export(): DirectoryImage {
    const out: DirectoryImage = {};
    for (const [id, raft] of this.raft) out[id] = { raft };
    for (const [id, http] of this.http) out[id] = { ...out[id], http };
    return out;
  }

  /** Learns from a snapshot; addresses this node already has (its flags) are kept. */
  import(image: DirectoryImage): void {
    for (const [id, a] of Object.entries(image)) {
      if (a.raft !== undefined && !this.raft.has(id)) this.raft.set(id, a.raft);
      if (a.http !== undefined && !this.http.has(id)) this.http.set(id, a.http);
    }
  }

  raftOf(id: string): string | null {
    return this.raft.get(id) ?? null;
  }

  setHttp(id: string, http: string): void {
    this.http.set(id, http);
  }

  /** A peer's handshake note (metaOf): its HTTP address, used where none is replicated. */
  hear(id: string, meta: string): void {
    const http = httpOfMeta(meta);
    if (http !== null) this.heard.set(id, http);
  }

  httpOf(id: string | null): string | null {
    return id === null ? null : (this.http.get(id) ?? this.heard.get(id) ?? null);
  }

  list(ids: readonly string[]): MemberInfo[] {
    return ids.map((id) => {
      const http = this.http.get(id) ?? this.heard.get(id);
      const info: MemberInfo = { id, raft: this.raft.get(id) ?? '' };
      if (http !== undefined) info.http = http;
      return info;
    });
  }
}

export function encodeMemberContext(member: {
  raft: string;
  http?: string | undefined;
}): Uint8Array {
  return Buffer.from(JSON.stringify({ raft: member.raft, http: member.http }), 'utf8');
}

function parseContext(bytes: Uint8Array): { raft?: string; http?: string } {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    return {
      ...(typeof v.raft === 'string' ? { raft: v.raft } : {}),
      ...(typeof v.http === 'string' ? { http: v.http } : {}),
    };
  } catch {
    return {};
  }
}

/** What a node says about itself in its Raft handshakes (TransportOptions.advertiseMeta). */
export function metaOf(self: { http: string }): string {
  return JSON.stringify({ http: self.http });
}

/** The HTTP address in a peer's handshake note, or null when it holds no host:port. */
function httpOfMeta(meta: string): string | null {
  try {
    const v = JSON.parse(meta) as { http?: unknown };
    if (typeof v.http !== 'string' || v.http.length > 300) return null;
    return /^[^\s/]+:[0-9]{1,5}$/.test(v.http) ? v.http : null;
  } catch {
    return null;
  }
}
