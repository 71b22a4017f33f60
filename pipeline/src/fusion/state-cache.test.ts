import { describe, expect, it } from 'vitest';
import type { FusedVesselState, LiveStateStore } from '../store/types.js';
import { emptyMemory, type RecentReport, type VesselMemory } from './decide.js';
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

  it('gives back exactly what was set: state with nulls, static data, the newest recent reports', () => {
    const cache = new StateCache(5, {}, { recentReports: 2 });
    const staticData = { shipName: 'AURORA', updatedAt: 900 } as VesselMemory['static'];
    const report = (id: string, ts: number): RecentReport => ({ report: id, ts, firstRx: ts + 7, sources: ['s', 't'] });
    const full: VesselMemory = { state: { ...state(7), lat: -33.5, lon: 151.25, speed: 0, static: staticData }, static: staticData, recent: [report('a', 1), report('b', 2), report('c', 3)] };
    const pending: VesselMemory = { state: null, static: staticData, recent: [] };
    cache.set(7, full);
    cache.set(8, pending);
    expect(cache.peek(7)).toEqual({ ...full, recent: [report('b', 2), report('c', 3)] });
    expect(cache.peek(8)).toEqual(pending);
    cache.set(7, emptyMemory); // overwriting clears what was there
    expect(cache.peek(7)).toEqual(emptyMemory);
  });

  it('reuses the slots of evicted vessels and grows past its first allocation', () => {
    const cache = new StateCache(3_000);
    for (let m = 1; m <= 5_000; m++) cache.set(m, { state: { ...state(m), ts: m, lat: m / 100 }, static: null, recent: [] });
    expect(cache.size).toBe(3_000);
    expect(cache.peek(2_000)).toBeUndefined();
    for (const m of [2_001, 3_500, 5_000]) expect(cache.peek(m)!.state).toMatchObject({ mmsi: m, ts: m, lat: m / 100 });
    cache.delete(5_000);
    cache.set(9_999, { state: state(9_999), static: null, recent: [] });
    expect(cache.peek(5_000)).toBeUndefined();
    expect(cache.peek(9_999)!.state!.mmsi).toBe(9_999);
  });

  it('rejects a nonsensical size', () => {
    expect(() => new StateCache(0)).toThrow(RangeError);
  });
});
