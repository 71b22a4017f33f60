import { describe, expect, it } from 'vitest';
import { RetryableStoreError, UnrecoverableStoreError } from './errors.js';
import { isValidMmsi } from './mmsi.js';
import { numberArray, quoteElement, textArray } from './postgres/array-literal.js';
import { classifyPgError } from './postgres/errors.js';
import { mergeHistoryRows, mergeVesselUpserts } from './postgres/history.js';
import { decodeCursor, encodeCursor, toVesselView } from './queries-impl.js';
import { classifyRedisError } from './redis/errors.js';
import { redisKeys } from './redis/keys.js';
import { fromDocument, staticVersion } from './redis/live-state.js';
import type { HistoryRow, VesselUpsert } from './types.js';

describe('array literals for unnest parameters', () => {
  it.each([
    ['plain', '"plain"'],
    ['NULL', '"NULL"'],
    ['', '""'],
    ['a,b {c}', '"a,b {c}"'],
    ['q"uote', '"q\\"uote"'],
    ['back\\slash', '"back\\\\slash"'],
    ['tab\there\nnewline', '"tab\there\nnewline"'],
  ])('quotes the element %j', (input, expected) => expect(quoteElement(input)).toBe(expected));

  it('writes numbers in their shortest form, null and non-finite as NULL', () => {
    const same = (v: number | null) => v;
    expect(numberArray([1, 2.5, -0.125, null, Number.NaN, Number.POSITIVE_INFINITY, 1_700_000_000_123], same)).toBe('{1,2.5,-0.125,NULL,NULL,NULL,1700000000123}');
    expect(numberArray([], same)).toBe('{}');
    expect(numberArray([{ lat: 54.5 }, { lat: null }], (r) => r.lat)).toBe('{54.5,NULL}');
  });

  it('nests a text[] literal as one quoted element of another', () => {
    expect(textArray(['a', 'b"c'])).toBe('{"a","b\\"c"}');
    expect(quoteElement(textArray(['a', 'b"c']))).toBe('"{\\"a\\",\\"b\\\\\\"c\\"}"');
  });
});

describe('vessel identity', () => {
  it.each([
    [0, false],
    [1, true],
    [244_000_123, true],
    [999_999_999, true],
    [1_000_000_000, false],
    [2 ** 30 - 1, false],
    [-5, false],
    [12.5, false],
  ])('mmsi %d valid: %s', (mmsi, valid) => expect(isValidMmsi(mmsi)).toBe(valid));
});

describe('error classification', () => {
  const pgErr = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
  it.each([
    ['08006', RetryableStoreError], // connection failure
    ['08P01', RetryableStoreError], // PgBouncer protocol/pool errors
    ['40P01', RetryableStoreError], // deadlock detected
    ['53300', RetryableStoreError], // too many connections
    ['57P01', RetryableStoreError], // admin shutdown
    ['42P01', RetryableStoreError], // table missing: migrations not run yet
    ['22003', UnrecoverableStoreError], // numeric out of range
    ['23502', UnrecoverableStoreError], // not null violation
    ['42601', UnrecoverableStoreError], // syntax error
  ])('postgres SQLSTATE %s', (code, kind) => {
    const err = classifyPgError(pgErr(code), 'testing');
    expect(err).toBeInstanceOf(kind);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('treats socket errors without SQLSTATE as retryable, even 5-letter ones', () => {
    expect(classifyPgError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'x')).toBeInstanceOf(RetryableStoreError);
    expect(classifyPgError(Object.assign(new Error('pipe'), { code: 'EPIPE' }), 'x')).toBeInstanceOf(RetryableStoreError);
    expect(classifyPgError(new Error('Connection terminated unexpectedly'), 'x')).toBeInstanceOf(RetryableStoreError);
  });

  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
  it.each([
    ['LOADING Redis is loading the dataset in memory', RetryableStoreError],
    ['CLUSTERDOWN The cluster is down', RetryableStoreError],
    ['TRYAGAIN Multiple keys request during rehashing of slot', RetryableStoreError],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', UnrecoverableStoreError],
    ['ERR user_script:1: Script attempted to access nonexistent global variable', UnrecoverableStoreError],
  ])('redis reply %j', (message, kind) => expect(classifyRedisError(reply(message), 'x')).toBeInstanceOf(kind));

  it('treats redis connection failures as retryable', () => {
    expect(classifyRedisError(new Error('Reached the max retries per request limit (which is 1).'), 'x')).toBeInstanceOf(RetryableStoreError);
    expect(classifyRedisError(new Error('Command timed out'), 'x')).toBeInstanceOf(RetryableStoreError);
  });
});

describe('batch merging before the upserts', () => {
  const row = (key: string, ts: number, sources: string[]): HistoryRow => ({ key, report: '00000000000000ff', mmsi: 1, ts, lat: 0, lon: 0, speed: null, course: null, heading: null, status: null, msgType: 1, sources });

  it('makes one history row per (key, ts) with the union of sources', () => {
    const merged = mergeHistoryRows([row('k', 1, ['b']), row('k', 1, ['a', 'b']), row('k', 2, ['c']), row('j', 1, ['c', 'c'])]);
    expect(merged.map((r) => [r.key, r.ts, r.sources])).toEqual([
      ['k', 1, ['a', 'b']],
      ['k', 2, ['c']],
      ['j', 1, ['c']],
    ]);
  });

  it('makes one vessel upsert per mmsi, sorted, newest fix and static fields winning', () => {
    const v = (mmsi: number, ts: number, extra: Partial<VesselUpsert> = {}): VesselUpsert => ({ mmsi, lastSeen: ts, fix: { ts, lat: ts, lon: 0, speed: null, course: null, heading: null }, static: null, sources: [`s${ts}`], ...extra });
    const merged = mergeVesselUpserts([
      v(9, 5, { static: { ts: 5, fields: { shipName: 'NEW', callsign: null } } }),
      v(3, 1),
      v(9, 7, { fix: null }),
      v(9, 2, { static: { ts: 2, fields: { shipName: 'OLD', callsign: 'CALL' } } }),
    ]);
    expect(merged.map((m) => m.mmsi)).toEqual([3, 9]);
    const nine = merged[1]!;
    expect(nine.lastSeen).toBe(7);
    expect(nine.fix?.ts).toBe(5);
    expect(nine.static).toEqual({ ts: 5, fields: { shipName: 'NEW', callsign: 'CALL' } });
    expect(new Set(nine.sources)).toEqual(new Set(['s5', 's7', 's2']));
  });
});

describe('live document halves', () => {
  it('orders static versions by report time, then by how many fields are known', () => {
    const v = staticVersion({ shipName: 'A', callsign: null, updatedAt: 1_000 });
    expect(staticVersion({ shipName: 'A', callsign: 'B', updatedAt: 1_000 })).toBeGreaterThan(v);
    expect(staticVersion({ updatedAt: 1_001 })).toBeGreaterThan(staticVersion({ shipName: 'A', callsign: 'B', imo: 1, updatedAt: 1_000 }));
    expect(staticVersion({ shipName: 'Z', callsign: null, updatedAt: 1_000 })).toBe(v);
    expect(Number.isSafeInteger(staticVersion({ shipName: 'A', updatedAt: Date.UTC(2100, 0, 1) }))).toBe(true);
  });

  it('rebuilds a state from the position array and the static half, and reads the whole-state layout', () => {
    const st = { shipName: 'X', updatedAt: 5 };
    expect(fromDocument(7, 3, [1_000, 1.5, null, 2, null, null, 0, 1, 'a', ['a', 'b']], st)).toEqual({ mmsi: 7, partition: 3, ts: 1_000, lat: 1.5, lon: null, speed: 2, course: null, heading: null, status: 0, msgType: 1, source: 'a', sources: ['a', 'b'], static: st });
    const whole = { mmsi: 7, partition: 3, ts: 1, lat: 1, lon: 1, speed: null, course: null, heading: null, status: null, msgType: 1, source: 'a', sources: ['a'], static: { shipName: 'OLD', updatedAt: 1 } };
    expect(fromDocument(7, 3, whole, null)).toEqual(whole);
    expect(fromDocument(7, 3, whole, st).static).toEqual(st);
  });
});

describe('keys and cursors', () => {
  it('puts a vessel and its partition indexes under one hash tag', () => {
    const k = redisKeys('aisflow:prod');
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    expect(k.vessel(17, 244_000_123)).toBe('aisflow:prod:v:{17}:244000123');
    expect(new Set([tag(k.vessel(17, 1)), tag(k.geo(17)), tag(k.index(17))])).toEqual(new Set(['17']));
  });

  it('round-trips a cursor and rejects a foreign one', () => {
    expect(decodeCursor(encodeCursor(244_000_123))).toBe(244_000_123);
    expect(decodeCursor(null)).toBe(-1);
    expect(() => decodeCursor('eyJ4IjoxfQ')).toThrow(/invalid cursor/);
  });

  it('maps a live document to the API view', () => {
    const view = toVesselView({ mmsi: 1, partition: 0, ts: 1_000, lat: 1, lon: 2, speed: null, course: null, heading: null, status: null, msgType: 1, source: 'a', sources: ['a'], static: { shipName: 'X', updatedAt: 5_000 } });
    expect(view.position?.time).toBe('1970-01-01T00:00:01.000Z');
    expect(view.static).toMatchObject({ shipName: 'X', callsign: null, eta: null });
    expect(view.lastUpdate).toBe('1970-01-01T00:00:05.000Z');
  });
});
