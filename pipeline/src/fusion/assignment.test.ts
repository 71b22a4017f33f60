import { describe, expect, it } from 'vitest';
import { assignPartitions, ownerOf, partitionsOf } from './assignment.js';

const members = (n: number) => Array.from({ length: n }, (_, i) => `fusion-${i}`);
const moved = (a: readonly (string | undefined)[], b: readonly (string | undefined)[]) => a.filter((owner, p) => owner !== b[p]).length;

describe('rendezvous assignment', () => {
  it('is a function of the member set only (order and duplicates do not matter)', () => {
    const m = members(5);
    expect(assignPartitions([...m].reverse(), 64)).toEqual(assignPartitions(m, 64));
    expect(assignPartitions([...m, ...m], 64)).toEqual(assignPartitions(m, 64));
  });

  it('gives every partition exactly one owner and spreads them roughly evenly', () => {
    const m = members(4);
    const owners = assignPartitions(m, 256);
    expect(owners.every((o) => o !== undefined && m.includes(o))).toBe(true);
    for (const member of m) {
      const count = owners.filter((o) => o === member).length;
      expect(count).toBeGreaterThan(256 / 4 / 2);
      expect(count).toBeLessThan((256 / 4) * 1.5);
    }
  });

  it('moves only the joining member’s share when a member joins', () => {
    for (const n of [1, 2, 3, 5, 8]) {
      const before = assignPartitions(members(n), 512);
      const after = assignPartitions(members(n + 1), 512);
      const changed = moved(before, after);
      // every moved partition moved TO the new member, and about 1/(n+1) of them moved
      expect(after.filter((o, p) => o !== before[p]).every((o) => o === `fusion-${n}`)).toBe(true);
      expect(changed).toBeGreaterThan((512 / (n + 1)) * 0.6);
      expect(changed).toBeLessThan((512 / (n + 1)) * 1.4);
    }
  });

  it('moves only the leaving member’s partitions when a member leaves', () => {
    const m = members(6);
    const before = assignPartitions(m, 512);
    const after = assignPartitions(m.filter((x) => x !== 'fusion-2'), 512);
    before.forEach((owner, p) => {
      if (owner !== 'fusion-2') expect(after[p]).toBe(owner);
      else expect(after[p]).not.toBe('fusion-2');
    });
  });

  it('has no owner without members; partitionsOf lists a member’s share', () => {
    expect(ownerOf(3, [])).toBeUndefined();
    expect(assignPartitions([], 4)).toEqual([undefined, undefined, undefined, undefined]);
    const m = members(3);
    const all = m.flatMap((x) => partitionsOf(x, m, 64)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });
});
