import { describe, expect, it } from 'vitest';
import type { FusedVesselState, LiveStateStore } from '../store/types.js';
import { emptyMemory } from './decide.js';
import { StateCache } from './state-cache.js';

const state = (mmsi: number): FusedVesselState => ({
  mmsi, partition: 0, ts: 1000, lat: 1, lon: 2, speed: null, course: null, heading: null, status: null, msgType: 1, source: 's', sources: ['s'], static: null,
});

/** A LiveStateStore read side over a fixed map, recording each call (our own code, not a client mock). */
function readSide(known: number[]) {
  const calls: number[][] = [];
  const store: Pick<LiveStateStore, 'readStates'> = {
    async readStates(list) {
      calls.push(list.map((v) => v.mmsi));
      return new Map(list.filter((v) => known.includes(v.mmsi)).map((v) => [v.mmsi, state(v.mmsi)]));
    },
  };
  return { store, calls };
}

describe('StateCache', () => {
  it('reads only misses, once per batch, and counts hits and misses', async () => {
    let hookHits = 0;
    let hookMisses = 0;
    const cache = new StateCache(10, { hit: (n) => (hookHits += n), miss: (n) => (hookMisses += n) });
    const { store, calls } = readSide([1, 2]);
    await cache.load([1, 2, 3, 3].map((mmsi) => ({ mmsi, partition: 0 })), store);
    expect(calls).toEqual([[1, 2, 3]]);
    expect(cache.peek(1)!.state!.mmsi).toBe(1);
    expect(cache.peek(3)).toEqual(emptyMemory);
    await cache.load([1, 2, 4].map((mmsi) => ({ mmsi, partition: 0 })), store);
    expect(calls).toEqual([[1, 2, 3], [4]]);
    expect([cache.hits, cache.misses, hookHits, hookMisses]).toEqual([2, 4, 2, 4]);
  });

  it('evicts the least recently used entry beyond its bound', async () => {
    const cache = new StateCache(3);
    const { store } = readSide([]);
    await cache.load([1, 2, 3].map((mmsi) => ({ mmsi, partition: 0 })), store);
    await cache.load([{ mmsi: 1, partition: 0 }], store); // 1 is now the most recent
    cache.set(4, emptyMemory);
    expect(cache.size).toBe(3);
    expect([1, 2, 3, 4].map((m) => cache.peek(m) !== undefined)).toEqual([true, false, true, true]);
  });

  it('rejects a nonsensical size', () => {
    expect(() => new StateCache(0)).toThrow(RangeError);
  });
});
