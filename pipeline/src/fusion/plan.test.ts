import { describe, expect, it } from 'vitest';
import { fnv1a64 } from '../ingest/record.js';
import type { AisRecordV1 } from '../shared/ais-record.js';
import { defaultDecideSettings, type VesselMemory } from './decide.js';
import { planBatch } from './plan.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const pos = (mmsi: number, rx: number, src: string, key: string, lat = 52): AisRecordV1 => ({
  v: 1, key: fnv1a64(key), src, rx, mmsi, type: 1, msg: { type: 1, repeat: 0, mmsi, lat, lon: 4, speed: 5, course: 1, heading: 1, status: 0, second: null },
});
const options = { now: T0 + 60_000, settings: defaultDecideSettings, trustOf: () => 'trusted' as const };

describe('planBatch', () => {
  it('keeps the newest state per vessel, one history row per report, vessels sorted by mmsi', () => {
    const records = [
      pos(300, T0 + 1_000, 'a', 'r1'),
      pos(300, T0 + 1_200, 'b', 'r1'), // same report, another receiver
      pos(300, T0 + 3_000, 'a', 'r2', 52.0001),
      pos(100, T0 + 2_000, 'a', 'r3'),
      { v: 1, nonsense: true },
    ].map((record) => ({ record, partition: 5 }));
    const plan = planBatch(records, () => undefined, options);
    expect(plan.outcomes).toEqual({ accepted: 3, duplicate: 1, invalid: 1 });
    expect(plan.history.map((h) => [h.mmsi, h.sources])).toEqual([[300, ['a', 'b']], [300, ['a']], [100, ['a']]]);
    expect(plan.states.map((s) => [s.mmsi, s.ts, s.lat])).toEqual([[300, T0 + 3_000, 52.0001], [100, T0 + 2_000, 52]]);
    expect(plan.vessels.map((v) => [v.mmsi, v.lastSeen, v.fix?.ts, v.sources])).toEqual([
      [100, T0 + 2_000, T0 + 2_000, ['a']],
      [300, T0 + 3_000, T0 + 3_000, ['a', 'b']],
    ]);
    expect(plan.invalid).toEqual([{ index: 4, record: { v: 1, nonsense: true }, detail: 'key missing' }]);
    expect(plan.stateRx.get(300)).toBe(T0 + 3_000);
    expect(plan.trust).toHaveLength(4);
  });

  it('reads memories through the lookup and never changes them (the caller commits)', () => {
    const before: VesselMemory = { state: null, static: null, recent: [] };
    const seen: number[] = [];
    const plan = planBatch([{ record: pos(7, T0, 'a', 'x'), partition: 0 }], (m) => (seen.push(m), before), options);
    expect(seen).toEqual([7]);
    expect(before.state).toBeNull();
    expect(plan.memories.get(7)!.state!.mmsi).toBe(7);
  });

  it('a redelivered batch plans the same history keys (idempotent rows)', () => {
    const records = [pos(9, T0, 'a', 'k1'), pos(9, T0 + 5_000, 'a', 'k2')].map((record) => ({ record, partition: 0 }));
    const first = planBatch(records, () => undefined, options);
    const again = planBatch(records, (m) => first.memories.get(m), options);
    expect(again.history.map((h) => h.key)).toEqual(first.history.map((h) => h.key));
    expect(again.outcomes).toEqual({ duplicate: 2 });
  });
});
