import { describe, expect, it } from 'vitest';
import { fnv1a64 } from '../ingest/record.js';
import type { AisRecordV1 } from '../shared/ais-record.js';
import { decideRecord, defaultDecideSettings, distanceM, emptyMemory, historyKey, reportTime, validateRecord, type DecideContext, type VesselMemory } from './decide.js';
import type { TrustLevel } from './trust.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const ctx = (over: Partial<DecideContext> & { levels?: Record<string, TrustLevel> } = {}): DecideContext => ({
  now: T0 + 60_000,
  partition: 7,
  settings: defaultDecideSettings,
  trustOf: (s) => over.levels?.[s] ?? 'trusted',
  ...over,
});

let seq = 0;
function rec(over: Partial<Omit<AisRecordV1, 'msg'>> & { msg?: Record<string, unknown> } = {}): AisRecordV1 {
  const msg = { type: 1, repeat: 0, mmsi: 244670000, lat: 52.0, lon: 4.0, speed: 10, course: 90, heading: 91, status: 0, second: null, ...(over.msg ?? {}) };
  // `key` names the report; the record carries its hash, as ingest's key is the payload's
  return { v: 1, src: 'honest', rx: T0, mmsi: 244670000, type: msg.type as number, ...over, key: fnv1a64(over.key ?? `k${++seq}`), msg: msg as AisRecordV1['msg'] };
}

function run(records: AisRecordV1[], c = ctx(), memory: VesselMemory = emptyMemory) {
  const out: string[] = [];
  let m = memory;
  const decisions = records.map((r) => {
    const d = decideRecord(r, m, c);
    m = d.memory;
    out.push(d.outcome);
    return d;
  });
  return { outcomes: out, memory: m, decisions };
}

describe('reportTime', () => {
  it.each([
    ['no second: rx to the second', T0 + 12_345, null, T0 + 12_000],
    ['second before rx in the same minute', T0 + 30_500, 28, T0 + 28_000],
    ['second slightly after rx (receiver clock noise)', T0 + 30_500, 33, T0 + 33_000],
    ['second far after rx: the previous minute', T0 + 5_000, 50, T0 - 10_000],
    ['special value 60 (not available)', T0 + 7_700, 60, T0 + 7_000],
  ])('%s', (_name, rx, second, expected) => {
    expect(reportTime(rx, second)).toBe(expected);
  });
});

describe('validateRecord', () => {
  it.each([
    [null, 'record is not an object'],
    [{ v: 2 }, 'unknown record version 2'],
    [{ v: 1, key: '', src: 's', rx: 1, mmsi: 1, type: 1, msg: {} }, 'key missing'],
    [{ v: 1, key: 'K1', src: 's', rx: 1, mmsi: 1, type: 1, msg: {} }, 'key "K1" is not 16 lowercase hex digits'],
    [{ v: 1, key: '744AE743D825591F', src: 's', rx: 1, mmsi: 1, type: 1, msg: {} }, 'key "744AE743D825591F" is not 16 lowercase hex digits'],
    [{ v: 1, key: '744ae743d825591f', src: 's', rx: 1, mmsi: 2 ** 30, type: 1, msg: {} }, 'mmsi 1073741824 out of range'],
    [{ v: 1, key: '744ae743d825591f', src: 's', rx: 'x', mmsi: 1, type: 1, msg: {} }, 'rx is not a number'],
    [{ v: 1, key: '744ae743d825591f', src: 's', rx: 1, mmsi: 1, type: 1 }, 'msg missing'],
  ])('%j → %s', (value, reason) => {
    expect(validateRecord(value)).toBe(reason);
  });
  it('accepts a well-formed record', () => expect(validateRecord(rec())).toBeNull());
});

describe('decideRecord', () => {
  it('accepts the first fix and builds the live state', () => {
    const { outcomes, memory, decisions } = run([rec({ rx: T0 + 1_000 })]);
    expect(outcomes).toEqual(['accepted']);
    expect(memory.state).toMatchObject({ mmsi: 244670000, partition: 7, ts: T0 + 1_000, lat: 52, lon: 4, speed: 10, source: 'honest', sources: ['honest'] });
    expect(decisions[0]!.history).toMatchObject({ key: historyKey(244670000, T0 + 1_000, decisions[0]!.history!.key.split(':')[2]!), sources: ['honest'] });
  });

  it('rejects reports from the future and too old ones, with a penalty', () => {
    const { outcomes, decisions } = run([rec({ rx: T0 + 60_000 + 61_000 }), rec({ rx: T0 - 7 * 3_600_000 })]);
    expect(outcomes).toEqual(['future', 'stale']);
    expect(decisions.map((d) => d.trust)).toEqual([
      { kind: 'penalty', source: 'honest', penalty: 'bad_time' },
      { kind: 'penalty', source: 'honest', penalty: 'late' },
    ]);
    expect(decisions.every((d) => !d.history)).toBe(true);
  });

  it('the same report from another receiver is a duplicate crediting both; a late copy is penalised', () => {
    const first = rec({ key: 'same', rx: T0 + 1_000, msg: { second: 0 } });
    const second = { ...first, src: 'other', rx: T0 + 1_400 };
    const late = { ...first, src: 'slow', rx: T0 + 40_000 };
    const { outcomes, memory, decisions } = run([first, second, late]);
    expect(outcomes).toEqual(['accepted', 'duplicate', 'duplicate']);
    expect(decisions[1]!.history!.key).toBe(decisions[0]!.history!.key);
    expect(memory.recent[0]!.sources).toEqual(['honest', 'other', 'slow']);
    expect(decisions[1]!.trust).toEqual({ kind: 'accept', source: 'other' });
    expect(decisions[2]!.trust).toEqual({ kind: 'penalty', source: 'slow', penalty: 'late_duplicate' });
  });

  it('out-of-order reports go to history but never move the live position back', () => {
    const { outcomes, memory, decisions } = run([rec({ rx: T0 + 10_000, msg: { lat: 52.0001 } }), rec({ rx: T0 + 5_000 }), rec({ rx: T0 - 80_000, src: 'laggard' })]);
    expect(outcomes).toEqual(['accepted', 'out_of_order', 'out_of_order']);
    expect(memory.state).toMatchObject({ ts: T0 + 10_000, lat: 52.0001 });
    expect(decisions[1]!.history).toMatchObject({ ts: T0 + 5_000 });
    expect(decisions[1]!.trust).toEqual({ kind: 'accept', source: 'honest' });
    expect(decisions[2]!.trust).toEqual({ kind: 'penalty', source: 'laggard', penalty: 'late' });
  });

  it('a jump across the ocean is implausible and counts against the source; small noise is fine', () => {
    const { outcomes, memory } = run([
      rec({ rx: T0 }),
      rec({ rx: T0 + 10_000, src: 'spoofer', msg: { lat: 40.0, lon: -70.0 } }),
      rec({ rx: T0 + 11_000, msg: { lat: 52.001, lon: 4.001 } }),
    ]);
    expect(outcomes).toEqual(['accepted', 'implausible', 'accepted']);
    expect(memory.state).toMatchObject({ lat: 52.001, lon: 4.001, source: 'honest' });
  });

  it('a fix older than the re-anchor window no longer judges plausibility', () => {
    const { outcomes } = run([rec({ rx: T0 - 31 * 60_000 }), rec({ rx: T0, msg: { lat: 10, lon: 10 } })], ctx({ now: T0 }));
    expect(outcomes).toEqual(['accepted', 'accepted']);
  });

  it('SAR aircraft (type 9) get their own speed bound', () => {
    // 0.5° of latitude in 2 minutes ≈ 900 kn: implausible even for an aircraft; 0.1° ≈ 180 kn is fine
    const a = (rx: number, lat: number) => rec({ rx, type: 9, mmsi: 111232511, msg: { type: 9, mmsi: 111232511, lat, lon: 4 } });
    expect(run([a(T0, 52), a(T0 + 120_000, 52.1), a(T0 + 120_000 + 1_000, 53)], ctx({ now: T0 + 130_000 })).outcomes).toEqual(['accepted', 'accepted', 'implausible']);
  });

  it('a demoted source does not beat a fresh trusted state, but wins when nobody trusted is fresh', () => {
    const c = ctx({ levels: { spoofer: 'demoted' }, now: T0 + 600_000 });
    const fresh = run([rec({ rx: T0 }), rec({ rx: T0 + 30_000, src: 'spoofer', msg: { lat: 52.01 } })], c);
    expect(fresh.outcomes).toEqual(['accepted', 'demoted_source']);
    expect(fresh.memory.state!.source).toBe('honest');
    expect(fresh.decisions[1]!.history).toBeDefined();
    const quiet = run([rec({ rx: T0 }), rec({ rx: T0 + 400_000, src: 'spoofer', msg: { lat: 52.01 } })], c);
    expect(quiet.outcomes).toEqual(['accepted', 'accepted']);
    expect(quiet.memory.state!.source).toBe('spoofer');
  });

  it('a trusted source re-anchors a vessel whose last fix came from a now demoted source', () => {
    const spoofed = run([rec({ rx: T0, src: 'spoofer', msg: { lat: 10, lon: 10 } })]).memory;
    const { outcomes } = run([rec({ rx: T0 + 5_000 })], ctx({ levels: { spoofer: 'demoted' } }), spoofed);
    expect(outcomes).toEqual(['accepted']);
  });

  it('merges static and voyage data (5, 24A, 24B, 19) field by field; newer wins, older fills gaps', () => {
    const five = rec({ type: 5, rx: T0, msg: { type: 5, shipName: 'NORDIC', callsign: 'PA1', destination: 'ROTTERDAM', lat: undefined, lon: undefined } });
    const pos = rec({ rx: T0 + 1_000 });
    const a24 = rec({ type: 24, rx: T0 + 2_000, msg: { type: 24, partNo: 0, shipName: 'NORDIC STAR', lat: undefined, lon: undefined } });
    const old = rec({ type: 24, rx: T0 - 5_000, msg: { type: 24, partNo: 1, shipType: 70, callsign: 'OLD', lat: undefined, lon: undefined } });
    const { outcomes, memory, decisions } = run([five, pos, a24, old]);
    expect(outcomes).toEqual(['static_merged', 'accepted', 'static_merged', 'static_merged']);
    expect(memory.state!.static).toMatchObject({ shipName: 'NORDIC STAR', callsign: 'PA1', destination: 'ROTTERDAM', shipType: 70, updatedAt: T0 + 2_000 });
    expect(decisions[0]!.stateChanged).toBe(false); // no position yet: waits in memory
    expect(decisions[2]!.stateChanged).toBe(true);
  });

  it('ignores messages that are not about a vessel’s position or identity', () => {
    expect(run([rec({ type: 4, msg: { type: 4 } }), rec({ type: 8, msg: { type: 8 } }), rec({ msg: { lat: null, lon: null } })]).outcomes).toEqual(['ignored', 'ignored', 'ignored']);
  });
});

describe('distanceM', () => {
  it('one degree of latitude is about 111 km', () => {
    expect(distanceM(0, 0, 1, 0)).toBeGreaterThan(111_000);
    expect(distanceM(0, 0, 1, 0)).toBeLessThan(111_400);
  });
});
