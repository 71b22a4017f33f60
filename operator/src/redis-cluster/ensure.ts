import { lookup } from 'node:dns/promises';
import { Redis } from 'ioredis';
import { OperatorError } from '../errors.js';
import { SLOTS, parseClusterNodes, isMyself } from './nodes.js';
import { planSteps, type MemberView, type Step } from './plan.js';

export interface EnsureOptions {
  /** host:port of every desired member, in order (the first `shards` start as primaries) */
  nodes: string[];
  replicasPerShard: number;
  /** host:port of members being removed: drained, forgotten and reset before the pods go */
  leaving?: string[];
  password?: string;
  /** give up after this long */
  timeoutMs: number;
  /** pause between passes (gossip needs time) @default 300 ms */
  pollMs?: number;
  /** passes to wait for Redis' own failover before forcing it @default 10 */
  failoverPatience?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface EnsureResult {
  summary: string;
  steps: number;
  executed: string[];
}

function split(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/** A short-lived connection per member; no retries: the state machine is the retry loop. */
function client(addr: string, password: string | undefined): Redis {
  const { host, port } = split(addr);
  const r = new Redis({ host, port, ...(password ? { password } : {}), lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  r.on('error', () => undefined); // failures surface as rejected commands: the member counts as unreachable
  return r;
}

export async function observe(nodes: string[], conns: Map<string, Redis>): Promise<MemberView[]> {
  return Promise.all(
    nodes.map(async (addr) => {
      const { host, port } = split(addr);
      let ip = host;
      try {
        ip = (await lookup(host)).address;
      } catch {
        /* unresolvable: the node counts as unreachable below */
      }
      try {
        const text = (await conns.get(addr)!.call('CLUSTER', 'NODES')) as string;
        const view = parseClusterNodes(text);
        const self = view.find(isMyself);
        let replicaLinkUp: boolean | undefined;
        if (self && !self.flags.has('master')) {
          const info = (await conns.get(addr)!.call('INFO', 'replication')) as string;
          replicaLinkUp = /master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info);
        }
        const stateOk = /cluster_state:ok/.test((await conns.get(addr)!.call('CLUSTER', 'INFO')) as string);
        return { addr, ip, port, view, stateOk, ...(self ? { self } : {}), ...(replicaLinkUp === undefined ? {} : { replicaLinkUp }) };
      } catch {
        return { addr, ip, port, view: [] };
      }
    }),
  );
}

async function execute(step: Step, conns: Map<string, Redis>, members: MemberView[], password: string | undefined): Promise<void> {
  const c = (addr: string) => conns.get(addr)!;
  switch (step.op) {
    case 'meet':
      await c(step.on).call('CLUSTER', 'MEET', step.ip, String(step.port));
      return;
    case 'forget':
      // "Unknown node" means it was already forgotten (by gossip of another FORGET): fine.
      await c(step.on).call('CLUSTER', 'FORGET', step.id).catch((err: Error) => {
        if (!/Unknown node|forget my master|forget myself/i.test(err.message)) throw err;
      });
      return;
    case 'stable':
      await c(step.on).call('CLUSTER', 'SETSLOT', String(step.slot), 'STABLE');
      return;
    case 'reset':
      // As `redis-cli --cluster del-node`: the drained member forgets the cluster it left.
      await c(step.on).call('CLUSTER', 'RESET', 'SOFT');
      return;
    case 'takeover':
      await c(step.on).call('CLUSTER', 'FAILOVER', 'TAKEOVER');
      return;
    case 'addslots':
      await c(step.on).call('CLUSTER', 'ADDSLOTSRANGE', ...step.ranges.flatMap(([a, b]) => [String(a), String(b)]));
      return;
    case 'replicate':
      await c(step.on).call('CLUSTER', 'REPLICATE', step.primaryId);
      return;
    case 'migrate': {
      // The documented slot migration (CLUSTER SETSLOT): importing, migrating, move keys, assign.
      const to = members.find((m) => m.addr === step.to)!;
      const primaries = members.filter((m) => m.self?.flags.has('master') && m.self.slots.length > 0).map((m) => m.addr);
      const moveSlot = async (slot: number) => {
        const s = String(slot);
        await Promise.all([c(step.to).call('CLUSTER', 'SETSLOT', s, 'IMPORTING', step.fromId), c(step.from).call('CLUSTER', 'SETSLOT', s, 'MIGRATING', step.toId)]);
        for (;;) {
          const keys = (await c(step.from).call('CLUSTER', 'GETKEYSINSLOT', s, '100')) as string[];
          if (keys.length === 0) break;
          await c(step.from).call('MIGRATE', to.ip, String(to.port), '', '0', '10000', ...(password ? ['AUTH', password] : []), 'KEYS', ...keys);
        }
        // The target first, then the source, then everyone (the order redis-cli uses).
        await c(step.to).call('CLUSTER', 'SETSLOT', s, 'NODE', step.toId);
        await c(step.from).call('CLUSTER', 'SETSLOT', s, 'NODE', step.toId);
        await Promise.all(primaries.filter((a) => a !== step.to && a !== step.from).map((a) => c(a).call('CLUSTER', 'SETSLOT', s, 'NODE', step.toId)));
      };
      // Slots are independent: move a few dozen at a time (one round trip each, pipelined).
      for (let i = 0; i < step.slots.length; i += 64) await Promise.all(step.slots.slice(i, i + 64).map(moveSlot));
      return;
    }
    default:
      return;
  }
}

const describe = (s: Step) =>
  s.op === 'migrate' ? `migrate ${s.slots.length} slots ${s.from} -> ${s.to}` : s.op === 'addslots' ? `addslots ${s.ranges.map(([a, b]) => `${a}-${b}`).join(',')} on ${s.on}` : `${s.op} ${JSON.stringify({ ...s, op: undefined })}`;

/**
 * Drives the cluster to the desired topology: observe every member, plan, execute, repeat, until
 * the plan is `done` or the time is up. Safe to run again at any point (a Job retried by
 * Kubernetes picks up where the previous run stopped, from live state).
 */
export async function ensureCluster(o: EnsureOptions): Promise<EnsureResult> {
  const shards = Math.floor(o.nodes.length / (1 + o.replicasPerShard));
  if (shards < 3) throw new OperatorError('AISFLOW_ERR_OPERATOR_REDIS_CLUSTER', `a Redis Cluster needs at least 3 primaries; ${o.nodes.length} nodes with ${o.replicasPerShard} replicas each give ${shards}`);
  const leaving = (o.leaving ?? []).filter((n) => !o.nodes.includes(n));
  const conns = new Map([...o.nodes, ...leaving].map((n) => [n, client(n, o.password)] as const));
  const failedSeen = new Map<string, number>();
  const executed: string[] = [];
  const deadline = Date.now() + o.timeoutMs;
  let lastWait = '';
  try {
    for (let pass = 0; Date.now() < deadline; pass++) {
      const [members, leavers] = await Promise.all([observe(o.nodes, conns), observe(leaving, conns)]);
      for (const m of members) for (const n of m.view) if (n.flags.has('fail') || n.flags.has('fail?')) failedSeen.set(n.id, (failedSeen.get(n.id) ?? 0) + 1);
      const steps = planSteps({ members, leaving: leavers, shards, replicasPerShard: o.replicasPerShard, failoverPatience: o.failoverPatience ?? 10, failedSeen });
      const first = steps[0]!;
      if (first.op === 'done') {
        o.log?.('cluster ready', { summary: first.summary });
        return { summary: first.summary, steps: executed.length, executed };
      }
      if (first.op === 'wait') {
        if (first.reason !== lastWait) o.log?.('waiting', { reason: first.reason });
        lastWait = first.reason;
      } else {
        for (const s of steps) {
          o.log?.('step', { step: describe(s) });
          executed.push(describe(s));
          try {
            await execute(s, conns, [...members, ...leavers], o.password);
          } catch (err) {
            // Not fatal: the next observation shows what happened (an open slot is closed by
            // the plan, a lost member is waited for) until the deadline.
            lastWait = `${describe(s)} failed: ${(err as Error).message}`;
            o.log?.('step failed', { step: describe(s), error: (err as Error).message });
            break;
          }
        }
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 300));
    }
    throw new OperatorError('AISFLOW_ERR_OPERATOR_REDIS_CLUSTER', `the cluster did not reach the desired topology within ${o.timeoutMs} ms (last wait: ${lastWait || 'none'})`);
  } finally {
    for (const c of conns.values()) c.disconnect();
  }
}

/** Are all 16384 slots served by a reachable primary, as the first reachable member sees it? */
export async function slotCoverage(nodes: string[], password: string | undefined): Promise<{ ok: boolean; covered: number; message: string }> {
  const conns = new Map(nodes.map((n) => [n, client(n, password)] as const));
  try {
    const members = await observe(nodes, conns);
    const ref = members.find((m) => m.self);
    if (!ref) return { ok: false, covered: 0, message: 'no Redis member is reachable' };
    const covered = new Set<number>();
    for (const n of ref.view) if (n.flags.has('master') && !n.flags.has('fail') && !n.flags.has('fail?')) for (const s of n.slots) covered.add(s);
    const ok = covered.size === SLOTS;
    return { ok, covered: covered.size, message: ok ? `all ${SLOTS} slots served` : `${SLOTS - covered.size} of ${SLOTS} slots are not served` };
  } finally {
    for (const c of conns.values()) c.disconnect();
  }
}
