import { describe, expect, it } from 'vitest';
import { BitBuffer, readHex, readS, readText, readU } from './armor.js';
import { compileLayout, layoutBits, rateOfTurn } from './fields.js';
import { inlandStatic, meteoHydro, meteoHydroLegacy } from './messages/applications.js';
import { MESSAGE_SPECS } from './registry.js';

// Spec lengths of the fixed tables (ITU-R M.1371-5 Annex 8; type 24 A per gpsd's AIVDM.html,
// where part A is 160 bits plus up to 8 optional spare bits): a table that does not sum to its
// length has a wrong width somewhere.
const FIXED_BITS: Record<number, number[]> = {
  1: [168],
  2: [168],
  3: [168],
  4: [168],
  5: [424],
  9: [168],
  10: [72],
  11: [168],
  18: [168],
  19: [312],
  22: [168, 168],
  23: [160],
  24: [168, 168, 168],
  27: [96],
};
// Maximum lengths of the variable tables (the most their slots can carry).
// (type 14: 161 characters after the 40-bit header, 1006 bits)
const MAX_BITS: Record<number, number> = { 6: 1008, 7: 168, 8: 1008, 12: 1008, 13: 168, 14: 1006, 15: 160, 16: 144, 17: 816, 20: 160, 21: 360 };

describe('field tables', () => {
  it.each(Object.entries(FIXED_BITS))('type %s sums to its spec length', (type, lengths) => {
    expect(MESSAGE_SPECS[Number(type)]!.layouts.map((l) => layoutBits(l.fields))).toEqual(lengths);
  });

  it.each(Object.entries(MAX_BITS))('type %s has its spec maximum length', (type, max) => {
    expect(layoutBits(MESSAGE_SPECS[Number(type)]!.layouts[0]!.fields)).toBe(max);
  });

  it('types 25 and 26 fit one and five slots in every variant', () => {
    for (const l of MESSAGE_SPECS[25]!.layouts) expect(layoutBits(l.fields)).toBe(168);
    for (const l of MESSAGE_SPECS[26]!.layouts) expect(layoutBits(l.fields)).toBe(1064);
  });

  it('application tables fill their payloads (1/31: 360 bits in type 8, 1/11: 352, 200/10: 168)', () => {
    expect(56 + layoutBits(meteoHydro.layout.fields)).toBe(360);
    expect(56 + layoutBits(meteoHydroLegacy.layout.fields)).toBe(352);
    expect(56 + layoutBits(inlandStatic.layout.fields)).toBe(168);
  });

  it('every message type 1-27 has a table and no other type does', () => {
    expect(Object.keys(MESSAGE_SPECS).map(Number)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
  });

  it('minBits ends at the last required field; optional groups are all-or-nothing', () => {
    const t16 = compileLayout(MESSAGE_SPECS[16]!.layouts[0]!);
    expect([t16.minBits, t16.maxBits]).toEqual([92, 144]);
    const b = new BitBuffer();
    // 128 bits: more than one station, less than two -> the second station is absent, not half there
    b.load('@lI`<5vWhhn2=4NA;Qo6G@', 4);
    expect(t16.read(b)).toMatchObject({ mmsi2: null, offset2: null, increment2: null });
  });
});

describe('bit reader', () => {
  const b = new BitBuffer();
  it('reads unsigned and signed fields across symbol boundaries', () => {
    expect(b.load('w0', 0)).toBe(-1); // 111111 000000
    expect(readU(b, 0, 6)).toBe(63);
    expect(readU(b, 3, 6)).toBe(0b111000);
    expect(readS(b, 3, 6)).toBe(-8);
    expect(readS(b, 0, 2)).toBe(-1);
    expect(readU(b, 6, 6)).toBe(0);
  });
  it('reads 6-bit text, stopping at @ and trimming trailing spaces', () => {
    b.load('1000', 0); // 'A', '@', '@', '@'
    expect(readText(b, 0, 4)).toBe('A');
    b.load('0000', 0);
    expect(readText(b, 0, 4)).toBeNull();
    b.load('1P1P', 0); // 'A', ' ', 'A', ' '
    expect(readText(b, 0, 4)).toBe('A A');
  });
  it('prints binary payloads as hex padded with zero bits', () => {
    b.load('w', 0);
    expect(readHex(b, 0, 6)).toBe('fc');
  });
  it('rejects characters outside the armour alphabet', () => {
    expect(b.load('1X', 0)).toBe(1);
    expect(b.load('1\u0100', 0)).toBe(1);
  });
  it('rate of turn keeps its sign; -128 and ±127 have no rate', () => {
    expect(rateOfTurn(0)).toBe(0);
    expect(rateOfTurn(-5)).toBe(-1.1);
    expect(rateOfTurn(126)).toBe(708.7);
    expect([rateOfTurn(-128), rateOfTurn(127), rateOfTurn(-127)]).toEqual([null, null, null]);
  });
});
