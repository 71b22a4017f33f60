import { SLOTS, evenSplit, isFailed, isPrimary, type ClusterNode } from './nodes.js';

/** What one desired member looks like right now. */
export interface MemberView {
  /** the address we were told (host:port) */
  addr: string;
  /** resolved IP (CLUSTER MEET wants an IP) */
  ip: string;
  port: number;
  /** its own `myself` line; undefined when unreachable */
  self?: ClusterNode;
  /** its whole `CLUSTER NODES` view */
  view: ClusterNode[];
  /** replicas: is the replication link to its primary up (INFO replication master_link_status) */
  replicaLinkUp?: boolean;
  /** CLUSTER INFO cluster_state:ok */
  stateOk?: boolean;
}

export type Step =
  | { op: 'wait'; reason: string }
  | { op: 'done'; summary: string }
  | { op: 'meet'; on: string; ip: string; port: number }
  | { op: 'forget'; on: string; id: string }
  | { op: 'stable'; on: string; slot: number }
  | { op: 'takeover'; on: string }
  | { op: 'addslots'; on: string; ranges: Array<[number, number]> }
  | { op: 'replicate'; on: string; primaryId: string }
  | { op: 'migrate'; from: string; to: string; toId: string; fromId: string; slots: number[] }
  | { op: 'reset'; on: string };

export interface PlanInput {
  members: MemberView[];
  /**
   * Members being removed (a scale-in: the StatefulSet shrinks only after they are drained).
   * Their slots move to the remaining primaries, replicas that follow them are re-pointed, then
   * every remaining member forgets them and they are reset, as `redis-cli --cluster del-node`
   * does. A leaving member that is unreachable or unknown to the cluster needs nothing.
   */
  leaving?: MemberView[];
  shards: number;
  replicasPerShard: number;
  /** consecutive observations of a failed primary whose replica has not taken over */
  failoverPatience: number;
  /** how many passes a failed primary has been seen (by id) */
  failedSeen: ReadonlyMap<string, number>;
  /** at most this many slots move per migrate step (keeps each step short) */
  migrateBatch?: number;
}

/**
 * The next steps that bring the cluster towards `shards` primaries with `replicasPerShard`
 * replicas each and all 16384 slots served. Pure and driven only by the live `CLUSTER NODES`
 * views, so a Job that dies half-way is simply run again (OT redis-operator#885: decisions from
 * stored state instead of live state are how clusters end up broken). The order matters:
 * failovers before forgetting (a replica cannot forget its own primary), membership before slots,
 * slots before roles.
 */
export function planSteps(input: PlanInput): Step[] {
  const { members } = input;
  const down = members.filter((m) => !m.self);
  if (down.length > 0) return [{ op: 'wait', reason: `unreachable: ${down.map((m) => m.addr).join(', ')}` }];
  const ids = new Set(members.map((m) => m.self!.id));
  // The member that knows the most nodes speaks for the cluster (a replaced pod knows nobody).
  const seed = [...members].sort((a, b) => b.view.length - a.view.length)[0]!;
  const leaving = (input.leaving ?? []).filter((m) => m.self && !ids.has(m.self.id) && seed.view.some((n) => n.id === m.self!.id));
  const leavingIds = new Set(leaving.map((m) => m.self!.id));
  // Still part of the cluster until drained: neither ghosts to forget nor owners to bypass.
  const inCluster = new Set([...ids, ...leavingIds]);
  const all = [...members, ...leaving];
  const byId = new Map(all.map((m) => [m.self!.id, m] as const));

  // 1. A primary that owns slots but is failed, or is a ghost (its address now answers with
  //    another id: a replaced pod), and has a healthy replica: the replica must take over. For a
  //    failed primary let Redis do it first and force it (TAKEOVER) after the patience; for a
  //    ghost force it at once, before the replica re-syncs from the empty newcomer at the old
  //    address and loses the shard's data.
  const seedView = seed.view;
  for (const n of seedView) {
    const ghost = !inCluster.has(n.id);
    if (!isPrimary(n) || n.slots.length === 0 || (!ghost && !isFailed(n))) continue;
    const replica = seedView.find((r) => r.primaryId === n.id && !isFailed(r) && inCluster.has(r.id));
    if (!replica) continue;
    if (!ghost && (input.failedSeen.get(n.id) ?? 0) < input.failoverPatience) return [{ op: 'wait', reason: `waiting for a replica of failed primary ${n.id.slice(0, 8)} to take over` }];
    return [{ op: 'takeover', on: byId.get(replica.id)!.addr }];
  }

  // 2. Forget ghosts: ids no desired member has (a replaced pod starts with a new id).
  const forget: Step[] = [];
  for (const m of all) {
    for (const n of m.view) {
      if (inCluster.has(n.id)) continue;
      // A replica cannot forget its own primary; that primary is failed over first (step 1).
      if (m.self!.primaryId === n.id) continue;
      forget.push({ op: 'forget', on: m.addr, id: n.id });
    }
  }
  if (forget.length > 0) return forget;

  // 3. Meet: every member must be known to the seed.
  const known = new Set(seedView.map((n) => n.id));
  const meet: Step[] = members.filter((m) => !known.has(m.self!.id)).map((m) => ({ op: 'meet', on: seed.addr, ip: m.ip, port: m.port }) as Step);
  if (meet.length > 0) return meet;

  // 4. Gossip must have converged: everyone knows everyone, no handshakes.
  for (const m of members) {
    const seen = new Set(m.view.filter((n) => !n.flags.has('handshake')).map((n) => n.id));
    if ([...ids].some((id) => !seen.has(id))) return [{ op: 'wait', reason: `gossip: ${m.addr} does not know every member yet` }];
  }

  // 5. Close open slots left by an interrupted migration (redis-cli --cluster fix, simplified).
  const stable: Step[] = [];
  for (const m of all) for (const [slot] of m.self!.openSlots) stable.push({ op: 'stable', on: m.addr, slot });
  if (stable.length > 0) return stable;

  // Slot ownership as the members themselves report it.
  const owner = new Map<number, string>();
  for (const m of all) for (const s of m.self!.slots) owner.set(s, m.self!.id);
  const primaries = members.filter((m) => isPrimary(m.self!) && m.self!.slots.length > 0);

  // 6. Fresh cluster: the first `shards` members become primaries with even ranges.
  if (owner.size === 0) {
    const split = evenSplit(input.shards);
    return members.slice(0, input.shards).map((m, i) => ({ op: 'addslots', on: m.addr, ranges: [split[i]!] }) as Step);
  }

  // 7. Uncovered slots (a primary lost with no replica): give them to the smallest primary.
  //    Their data is gone either way; serving them again is what makes the cluster usable.
  if (owner.size < SLOTS) {
    const missing: number[] = [];
    for (let s = 0; s < SLOTS; s++) if (!owner.has(s)) missing.push(s);
    const empties = members.filter((m) => isPrimary(m.self!) && m.self!.slots.length === 0);
    const target = primaries.length < input.shards && empties[0] ? empties[0] : [...primaries].sort((a, b) => a.self!.slots.length - b.self!.slots.length)[0]!;
    return [{ op: 'addslots', on: target.addr, ranges: rangesOf(missing) }];
  }

  // Moving slots needs every member to agree the cluster is up (a newcomer learns the slot map by
  // gossip; MIGRATE to it fails with CLUSTERDOWN until then).
  const notOk = all.filter((m) => m.stateOk === false);
  const movesBlocked = notOk.length > 0 ? { op: 'wait', reason: `cluster_state not ok on ${notOk.map((m) => m.addr).join(', ')}` } as Step : undefined;
  const batch = input.migrateBatch ?? 1024;
  const empties = members.filter((m) => isPrimary(m.self!) && m.self!.slots.length === 0);
  const bySlots = (list: MemberView[]) => [...list].sort((a, b) => a.self!.slots.length - b.self!.slots.length);
  const migrate = (from: MemberView, to: MemberView, count: number): Step => ({ op: 'migrate', from: from.addr, to: to.addr, fromId: from.self!.id, toId: to.self!.id, slots: from.self!.slots.slice(-count) });

  // Scale-in, in the order that never leaves a slot unserved or a replica without a primary:
  // 8a. Drain: a leaving primary's slots go to the smallest remaining primary (or to an empty
  //     remaining member while there are fewer primaries than shards).
  const draining = leaving.find((m) => m.self!.slots.length > 0);
  if (draining) {
    const to = primaries.length < input.shards && empties[0] ? empties[0] : bySlots(primaries)[0];
    if (!to) return [{ op: 'wait', reason: `no remaining primary can take the slots of leaving ${draining.addr}` }];
    if (movesBlocked) return [movesBlocked];
    return [migrate(draining, to, Math.min(batch, draining.self!.slots.length))];
  }
  // 8b. Fewer shards: the smallest extra primary hands its slots to the next smallest; once
  //     empty it becomes a replica (step 10).
  if (primaries.length > input.shards) {
    const [from, to] = bySlots(primaries) as [MemberView, MemberView];
    if (movesBlocked) return [movesBlocked];
    return [migrate(from, to, Math.min(batch, from.self!.slots.length))];
  }
  // 8c. A remaining replica whose primary leaves or no longer serves slots follows the primary
  //     with the fewest replicas (a replica cannot forget its own primary).
  const servesSlots = new Set(primaries.map((m) => m.self!.id));
  const stranded = members.filter((m) => !isPrimary(m.self!) && (leavingIds.has(m.self!.primaryId) || (ids.has(m.self!.primaryId) && !servesSlots.has(m.self!.primaryId))));
  if (stranded.length > 0 && primaries.length > 0) {
    const followers = new Map<string, number>(primaries.map((p) => [p.self!.id, 0]));
    for (const m of members) if (!isPrimary(m.self!) && followers.has(m.self!.primaryId)) followers.set(m.self!.primaryId, followers.get(m.self!.primaryId)! + 1);
    return stranded.map((m) => {
      const [primaryId] = [...followers.entries()].sort((a, b) => a[1] - b[1])[0]!;
      followers.set(primaryId, followers.get(primaryId)! + 1);
      return { op: 'replicate', on: m.addr, primaryId } as Step;
    });
  }
  // 8d. Remove the drained leaving members: every remaining member forgets them, then each is
  //     reset so it cannot gossip its way back (FORGET only bans an id for 60 s).
  if (leaving.length > 0) {
    const remove: Step[] = [];
    for (const m of members) for (const l of leaving) if (m.view.some((n) => n.id === l.self!.id)) remove.push({ op: 'forget', on: m.addr, id: l.self!.id });
    for (const l of leaving) remove.push({ op: 'reset', on: l.addr });
    return remove;
  }

  // 8. Grow to `shards` primaries: move slots from the largest primary to an empty member.
  if (primaries.length < input.shards && empties.length > 0) {
    if (movesBlocked) return [movesBlocked];
    const to = empties[0]!;
    const from = bySlots(primaries).at(-1)!;
    const want = Math.floor(SLOTS / input.shards);
    return [migrate(from, to, Math.min(batch, from.self!.slots.length - want, want))];
  }

  // 9. Balance: largest and smallest primary more than 1% of the slots apart.
  if (primaries.length >= 2) {
    const sorted = bySlots(primaries);
    const small = sorted[0]!;
    const big = sorted[sorted.length - 1]!;
    const ideal = Math.ceil(SLOTS / primaries.length);
    if (big.self!.slots.length - small.self!.slots.length > SLOTS / 100) {
      const move = Math.min(batch, big.self!.slots.length - ideal, ideal - small.self!.slots.length);
      if (move > 0 && movesBlocked) return [movesBlocked];
      if (move > 0) return [migrate(big, small, move)];
    }
  }

  // 10. Replicas: empty members replicate the primary with the fewest healthy replicas.
  const replicaCount = new Map<string, number>(primaries.map((p) => [p.self!.id, 0]));
  for (const m of members) if (!isPrimary(m.self!) && replicaCount.has(m.self!.primaryId)) replicaCount.set(m.self!.primaryId, replicaCount.get(m.self!.primaryId)! + 1);
  const replicate: Step[] = [];
  for (const e of empties) {
    const [primaryId, count] = [...replicaCount.entries()].sort((a, b) => a[1] - b[1])[0] ?? [];
    if (primaryId === undefined || count === undefined || count >= input.replicasPerShard) break;
    replicate.push({ op: 'replicate', on: e.addr, primaryId });
    replicaCount.set(primaryId, count + 1);
  }
  if (replicate.length > 0) return replicate;

  // 11. Not done while a replica is still copying its primary: a failure now would lose data.
  const syncing = members.filter((m) => !isPrimary(m.self!) && m.replicaLinkUp === false);
  if (syncing.length > 0) return [{ op: 'wait', reason: `replicas still syncing: ${syncing.map((m) => m.addr).join(', ')}` }];

  // 12. Not done until every member's own map serves every slot and says the cluster is up:
  //     right after ADDSLOTS or a migration the others learn it by gossip, and a client that
  //     asks a member with a stale map meets CLUSTERDOWN.
  const stale = members.filter((m) => m.stateOk === false || servedIn(m.view) < SLOTS);
  if (stale.length > 0) return [{ op: 'wait', reason: `slot map not yet converged on ${stale.map((m) => m.addr).join(', ')}` }];

  const replicas = members.length - primaries.length;
  return [{ op: 'done', summary: `${primaries.length} primaries, ${replicas} replicas, ${SLOTS} slots served` }];
}

function rangesOf(slots: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const s of slots) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

function servedIn(view: ClusterNode[]): number {
  const served = new Set<number>();
  for (const n of view) if (isPrimary(n) && !isFailed(n)) for (const slot of n.slots) served.add(slot);
  return served.size;
}
