import { describe, expect, it } from 'vitest';
import { batchLength } from './consumer.js';

const sized = (...bytes: number[]) => bytes.map((n) => ({ data: { length: n } }));

describe('batchLength', () => {
  it('takes messages up to the message bound', () => {
    expect(batchLength(sized(10, 10, 10, 10), 3, 1_000)).toBe(3);
  });

  it('stops before the message that would pass the byte bound', () => {
    expect(batchLength(sized(400, 400, 400, 400), 64, 1_000)).toBe(2);
  });

  it('always takes one message, even one larger than the byte bound', () => {
    expect(batchLength(sized(5_000, 10), 64, 1_000)).toBe(1);
  });

  it('takes nothing from an empty buffer', () => {
    expect(batchLength([], 64, 1_000)).toBe(0);
  });
});
