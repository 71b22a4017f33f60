/**
 * Rendezvous (highest-random-weight) hashing of partitions onto members. Every member computes
 * the same owner for every partition from the same member list, with no coordinator; when a
 * member joins or leaves only the partitions it wins or held move (about 1/N of them).
 * PURE: no clock, no I/O.
 */

/** 32-bit FNV-1a of a string, then a murmur3 finalizer so similar inputs spread well. */
function weight(member: string, partition: number): number {
  let h = 0x811c9dc5;
  const s = `${member}\u0000${partition}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Owner of one partition; ties (vanishingly rare) go to the smaller member id so all agree. */
export function ownerOf(partition: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const member of members) {
    const w = weight(member, partition);
    if (w > bestWeight || (w === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}

/** Owner of every partition 0..partitions-1 (index = partition). Empty members: every owner undefined. */
export function assignPartitions(members: readonly string[], partitions: number): (string | undefined)[] {
  const unique = [...new Set(members)];
  return Array.from({ length: partitions }, (_, p) => ownerOf(p, unique));
}

/** The partitions `member` owns, ascending. */
export function partitionsOf(member: string, members: readonly string[], partitions: number): number[] {
  const owners = assignPartitions(members, partitions);
  const mine: number[] = [];
  owners.forEach((owner, p) => {
    if (owner === member) mine.push(p);
  });
  return mine;
}
