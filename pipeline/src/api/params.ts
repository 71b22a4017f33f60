import type { BoundingBox } from '../store/queries.js';
import { ApiError } from './errors.js';

/**
 * Pure parsers for query and path values. Each failure names the parameter, what was expected
 * and what was given, so a 400 tells the caller exactly what to fix.
 */

/** MMSIs are 9 decimal digits (ITU-R M.585); leading zeros are meaningful (group/coast stations). */
export function parseMmsi(raw: string): number {
  if (!/^[0-9]{9}$/.test(raw)) {
    throw new ApiError('AISFLOW_ERR_API_INVALID_MMSI', `mmsi must be exactly 9 digits, got ${JSON.stringify(truncate(raw))}`, {
      parameter: 'mmsi',
    });
  }
  return Number(raw);
}

function truncate(raw: string): string {
  return raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
}

function parseNumberList(raw: string, parameter: string, count: number, shape: string): number[] {
  const parts = raw.split(',');
  if (parts.length !== count) {
    throw new ApiError('AISFLOW_ERR_API_INVALID_BBOX', `${parameter} must be ${shape} (${count} comma-separated numbers), got ${parts.length} value(s)`, {
      parameter,
    });
  }
  return parts.map((part, i) => {
    const trimmed = part.trim();
    const value = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(value)) {
      throw new ApiError('AISFLOW_ERR_API_INVALID_BBOX', `${parameter} value ${i + 1} is not a number: ${JSON.stringify(truncate(part))}`, {
        parameter,
      });
    }
    return value;
  });
}

function checkLon(value: number, parameter: string, name: string): void {
  if (value < -180 || value > 180) {
    throw new ApiError('AISFLOW_ERR_API_INVALID_BBOX', `${parameter}: ${name} ${value} is outside -180..180`, { parameter });
  }
}

function checkLat(value: number, parameter: string, name: string): void {
  if (value < -90 || value > 90) {
    throw new ApiError('AISFLOW_ERR_API_INVALID_BBOX', `${parameter}: ${name} ${value} is outside -90..90`, { parameter });
  }
}

/** `minLon,minLat,maxLon,maxLat` in WGS84 degrees (the GeoJSON / OGC bbox order). */
export function parseBbox(raw: string, parameter = 'bbox'): BoundingBox {
  const [minLon, minLat, maxLon, maxLat] = parseNumberList(raw, parameter, 4, 'minLon,minLat,maxLon,maxLat') as [number, number, number, number];
  checkLon(minLon, parameter, 'minLon');
  checkLon(maxLon, parameter, 'maxLon');
  checkLat(minLat, parameter, 'minLat');
  checkLat(maxLat, parameter, 'maxLat');
  if (minLat > maxLat) {
    throw new ApiError('AISFLOW_ERR_API_INVALID_BBOX', `${parameter}: minLat ${minLat} is greater than maxLat ${maxLat}`, { parameter });
  }
  if (minLon > maxLon) {
    // A box across the antimeridian is two boxes for the geo index; asking for them explicitly
    // keeps pagination simple and the answer unambiguous.
    throw new ApiError(
      'AISFLOW_ERR_API_INVALID_BBOX',
      `${parameter}: minLon ${minLon} is greater than maxLon ${maxLon}; for an area across the antimeridian make two requests, one each side of 180°`,
      { parameter },
    );
  }
  return { minLon, minLat, maxLon, maxLat };
}

/** `lon,lat` plus a radius in metres, bounded by `maxRadiusM`. */
export function parseNear(raw: string, radiusM: number | undefined, maxRadiusM: number): { center: { lon: number; lat: number }; radiusM: number } {
  const [lon, lat] = parseNumberList(raw, 'near', 2, 'lon,lat') as [number, number];
  checkLon(lon, 'near', 'lon');
  checkLat(lat, 'near', 'lat');
  if (radiusM === undefined) {
    throw new ApiError('AISFLOW_ERR_API_BAD_REQUEST', 'near= needs radius_m= (metres)', { parameter: 'radius_m' });
  }
  if (!(radiusM > 0) || radiusM > maxRadiusM) {
    throw new ApiError('AISFLOW_ERR_API_BAD_REQUEST', `radius_m must be more than 0 and at most ${maxRadiusM}, got ${radiusM}`, {
      parameter: 'radius_m',
    });
  }
  return { center: { lon, lat }, radiusM };
}

/** An ISO 8601 time with a zone (`2026-11-28T20:00:00Z`) or milliseconds since the epoch. */
export function parseTime(raw: string, parameter: string): number {
  let ms: number;
  if (/^[0-9]{1,15}$/.test(raw)) {
    ms = Number(raw);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(raw)) {
    ms = Date.parse(raw);
  } else {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms)) {
    throw new ApiError(
      'AISFLOW_ERR_API_INVALID_RANGE',
      `${parameter} must be an ISO 8601 time with a zone (e.g. 2026-11-28T20:00:00Z) or milliseconds since the epoch, got ${JSON.stringify(truncate(raw))}`,
      { parameter },
    );
  }
  return ms;
}

/**
 * The `[from, to]` of a track request. Defaults: `to` = now + `aheadMs`, `from` = now (or the
 * given `to`) − `defaultRangeMs`. A report's time comes from its receiver's clock and its own
 * UTC-second field, and fusion accepts it up to a clock-skew bound in the future; the newest
 * points of a track are often a few seconds "ahead" of the API's clock, and a window ending at
 * now would leave them out until that moment passed. Rejects an inverted range and one wider
 * than `maxRangeMs`, so one request cannot scan a year of history partitions.
 */
export function parseTimeRange(
  query: { from?: string; to?: string },
  nowMs: number,
  limits: { defaultRangeMs: number; maxRangeMs: number; aheadMs: number },
): { fromMs: number; toMs: number } {
  const toMs = query.to !== undefined ? parseTime(query.to, 'to') : nowMs + limits.aheadMs;
  const rangeEnd = query.to !== undefined ? toMs : nowMs;
  // never wider than maxRangeMs, the allowance past now included
  const fromMs = query.from !== undefined ? parseTime(query.from, 'from') : Math.max(rangeEnd - limits.defaultRangeMs, toMs - limits.maxRangeMs);
  if (fromMs > toMs) {
    throw new ApiError('AISFLOW_ERR_API_INVALID_RANGE', `from (${new Date(fromMs).toISOString()}) is after to (${new Date(toMs).toISOString()})`, {
      parameter: 'from',
    });
  }
  if (toMs - fromMs > limits.maxRangeMs) {
    const hours = (toMs - fromMs) / 3_600_000;
    throw new ApiError(
      'AISFLOW_ERR_API_INVALID_RANGE',
      `the range from..to spans ${hours.toFixed(1)} h; at most ${limits.maxRangeMs / 3_600_000} h per request (page through longer periods)`,
      { parameter: 'from', maxRangeHours: limits.maxRangeMs / 3_600_000 },
    );
  }
  return { fromMs, toMs };
}
