import { describe, expect, it } from 'vitest';
import { partitionOf } from './partition.js';

describe('partitionOf', () => {
  it('is pinned: changing the hash would move every vessel to another partition', () => {
    expect([244670000, 0, 1, 999999999, 366999999].map((m) => partitionOf(m, 64))).toEqual([36, 21, 4, 2, 49]);
    expect(partitionOf(244670000, 7)).toBe(3);
  });

  it('spreads real-looking MMSIs evenly', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[partitionOf(200_000_000 + i * 10, 64)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(700);
    expect(Math.max(...counts)).toBeLessThan(1300);
  });
});
