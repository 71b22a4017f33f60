import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { parseBbox, parseMmsi, parseNear, parseTime, parseTimeRange } from './params.js';

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return { code: (err as ApiError).code, message: (err as ApiError).message };
  }
  throw new Error('expected a failure');
}

describe('parseMmsi', () => {
  it.each([
    ['244670000', 244670000],
    ['002442000', 2442000],
  ])('accepts %s', (raw, mmsi) => expect(parseMmsi(raw)).toBe(mmsi));

  it.each(['12345678', '1234567890', '24467000a', '', ' 244670000', '-24467000'])('rejects %j as not 9 digits', (raw) => {
    const f = failure(() => parseMmsi(raw));
    expect(f.code).toBe('AISFLOW_ERR_API_INVALID_MMSI');
    expect(f.message).toContain('exactly 9 digits');
  });
});

describe('parseBbox', () => {
  it('reads minLon,minLat,maxLon,maxLat', () => {
    expect(parseBbox('-10.5,48,3,60.25')).toEqual({ minLon: -10.5, minLat: 48, maxLon: 3, maxLat: 60.25 });
  });

  it.each([
    ['1,2,3', '4 comma-separated numbers'],
    ['1,2,3,4,5', '4 comma-separated numbers'],
    ['a,2,3,4', 'value 1 is not a number'],
    ['1,,3,4', 'value 2 is not a number'],
    ['-181,0,0,1', 'minLon -181 is outside -180..180'],
    ['0,-91,1,1', 'minLat -91 is outside -90..90'],
    ['0,10,1,5', 'minLat 10 is greater than maxLat 5'],
    ['170,0,-170,1', 'across the antimeridian'],
  ])('rejects %j: %s', (raw, text) => {
    const f = failure(() => parseBbox(raw));
    expect(f.code).toBe('AISFLOW_ERR_API_INVALID_BBOX');
    expect(f.message).toContain(text);
  });
});

describe('parseNear', () => {
  it('reads lon,lat and checks the radius', () => {
    expect(parseNear('4.5,52', 1000, 5000)).toEqual({ center: { lon: 4.5, lat: 52 }, radiusM: 1000 });
    expect(failure(() => parseNear('4.5,52', undefined, 5000)).message).toContain('needs radius_m');
    expect(failure(() => parseNear('4.5,52', 6000, 5000)).message).toContain('at most 5000');
    expect(failure(() => parseNear('4.5,52', 0, 5000)).message).toContain('more than 0');
    expect(failure(() => parseNear('4.5', 10, 5000)).code).toBe('AISFLOW_ERR_API_INVALID_BBOX');
  });
});

describe('parseTimeRange', () => {
  const limits = { defaultRangeMs: 3_600_000, maxRangeMs: 24 * 3_600_000, aheadMs: 60_000 };
  const now = Date.parse('2026-11-28T20:00:00Z');

  it('defaults to the last hour, reaching the accepted clock skew past now', () => {
    expect(parseTimeRange({}, now, limits)).toEqual({ fromMs: now - 3_600_000, toMs: now + 60_000 });
  });

  it('counts the default range back from a given to, and keeps a given to as it is', () => {
    expect(parseTimeRange({ to: '2026-11-28T19:00:00Z' }, now, limits)).toEqual({ fromMs: now - 2 * 3_600_000, toMs: now - 3_600_000 });
    expect(parseTimeRange({ from: '2026-11-28T19:30:00Z' }, now, limits)).toEqual({ fromMs: now - 1_800_000, toMs: now + 60_000 });
  });

  it('keeps a default range within the widest allowed, the allowance past now included', () => {
    expect(parseTimeRange({}, now, { ...limits, maxRangeMs: 3_600_000 })).toEqual({ fromMs: now + 60_000 - 3_600_000, toMs: now + 60_000 });
  });

  it('reads ISO 8601 with a zone and epoch milliseconds', () => {
    expect(parseTime('2026-11-28T19:00:00Z', 'from')).toBe(now - 3_600_000);
    expect(parseTime('2026-11-28T21:00:00+01:00', 'from')).toBe(now);
    expect(parseTime(String(now), 'to')).toBe(now);
  });

  it.each([
    [{ from: 'yesterday' }, 'from must be an ISO 8601 time'],
    [{ from: '2026-11-28T19:00:00' }, 'with a zone'],
    [{ from: '2026-11-28T21:00:00Z', to: '2026-11-28T20:00:00Z' }, 'is after to'],
    [{ from: '2026-11-01T00:00:00Z', to: '2026-11-28T20:00:00Z' }, 'at most 24 h'],
  ])('rejects %j', (query, text) => {
    const f = failure(() => parseTimeRange(query, now, limits));
    expect(f.code).toBe('AISFLOW_ERR_API_INVALID_RANGE');
    expect(f.message).toContain(text);
  });
});
