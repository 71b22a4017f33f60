/** Number of hash slots in a Redis Cluster. */
export const SLOTS = 16384;

/** One line of `CLUSTER NODES` (https://redis.io/docs/latest/commands/cluster-nodes/). */
export interface ClusterNode {
  id: string;
  /** ip:port of the client port ('' when the node has no address: `noaddr`) */
  addr: string;
  hostname?: string;
  flags: Set<string>;
  /** id of the primary for replicas, '-' otherwise */
  primaryId: string;
  linkState: 'connected' | 'disconnected';
  /** slots this node serves */
  slots: number[];
  /** slots in an open migration: [slot, 'migrating'|'importing', peerId] */
  openSlots: Array<[number, 'migrating' | 'importing', string]>;
}

/**
 * Parses `CLUSTER NODES`:
 * `<id> <ip:port@cport[,hostname]> <flags> <primary> <ping> <pong> <epoch> <link> <slot>...`
 * where a slot is `n`, `a-b`, `[n->-id]` (migrating) or `[n-<-id]` (importing).
 */
export function parseClusterNodes(text: string): ClusterNode[] {
  const out: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 8 || !f[0]) continue;
    const [addrPart = ''] = f[1]!.split('@');
    const hostname = f[1]!.includes(',') ? f[1]!.split(',')[1] : undefined;
    const node: ClusterNode = {
      id: f[0],
      addr: addrPart.startsWith(':') ? '' : addrPart,
      ...(hostname ? { hostname } : {}),
      flags: new Set(f[2]!.split(',')),
      primaryId: f[3]!,
      linkState: f[7] === 'connected' ? 'connected' : 'disconnected',
      slots: [],
      openSlots: [],
    };
    for (const s of f.slice(8)) {
      const open = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(s);
      if (open) {
        node.openSlots.push([Number(open[1]), open[2] === '>' ? 'migrating' : 'importing', open[3]!]);
        continue;
      }
      const [a, b] = s.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) continue;
      for (let i = a; i <= (b ?? a); i++) node.slots.push(i);
    }
    out.push(node);
  }
  return out;
}

export const isPrimary = (n: ClusterNode) => n.flags.has('master');
export const isFailed = (n: ClusterNode) => n.flags.has('fail') || n.flags.has('fail?') || n.flags.has('noaddr');
export const isMyself = (n: ClusterNode) => n.flags.has('myself');

/** Contiguous ranges of a sorted slot list, for ADDSLOTSRANGE and messages. */
export function toRanges(slots: number[]): Array<[number, number]> {
  const sorted = [...slots].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/** Slots 0..16383 split as evenly as possible among `n` owners. */
export function evenSplit(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(SLOTS / n) + (i < SLOTS % n ? 1 : 0);
    out.push([start, start + size - 1]);
    start += size;
  }
  return out;
}
