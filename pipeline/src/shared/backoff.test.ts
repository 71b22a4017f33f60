import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it.each([
    [0, 0, 250],
    [0, 1, 500],
    [1, 0, 500],
    [3, 1, 4000],
    [10, 1, 30_000],
    [10, 0, 15_000],
    [1000, 0.5, 22_500],
  ])('attempt %i, random %d → %i ms', (attempt, r, expected) => {
    expect(backoffDelay(attempt, 500, 30_000, () => r)).toBe(expected);
  });
});
