import type pg from 'pg';
import { AisflowError } from '../shared/errors.js';
import { partitionOf } from '../shared/partition.js';
import type { BoundingBox, Page, TrackPoint, VesselQueries, VesselView } from './queries.js';
import type { FusedVesselState, SourceTrustView } from './types.js';
import { classifyPgError } from './postgres/errors.js';
import { quoteIdent } from './postgres/sql.js';
import { classifyRedisError } from './redis/errors.js';
import type { RedisLiveStateStore } from './redis/live-state.js';

/** Metres per degree of latitude (and of longitude at the equator), WGS84 mean. */
const M_PER_DEG = 111_320;

export interface StoreQueriesOptions {
  live: RedisLiveStateStore;
  pool: pg.Pool;
  schema: string;
  partitions: number;
}

/**
 * VesselQueries over the stores: live state and geo from Redis, track history from Postgres.
 * Geo queries search every partition's index and merge; pages are ordered by MMSI and the cursor
 * is the last MMSI served (opaque to clients: base64url JSON), so pages are stable while
 * vessels move and need no server-side state.
 */
export class StoreVesselQueries implements VesselQueries {
  private readonly live: RedisLiveStateStore;
  private readonly pool: pg.Pool;
  private readonly s: string;
  private readonly partitions: number;

  constructor(options: StoreQueriesOptions) {
    this.live = options.live;
    this.pool = options.pool;
    this.s = quoteIdent(options.schema);
    this.partitions = options.partitions;
  }

  async getVessel(mmsi: number): Promise<VesselView | null> {
    const states = await this.live.readStates([{ mmsi, partition: partitionOf(mmsi, this.partitions) }]);
    const state = states.get(mmsi);
    return state ? toVesselView(state) : null;
  }

  async vesselsInBox(box: BoundingBox, limit: number, cursor: string | null): Promise<Page<VesselView>> {
    // Redis BYBOX takes a centre and a size in metres; ask for a box at least as large as the
    // requested one at every latitude it spans, then keep exactly the points inside. A box across
    // the antimeridian (minLon > maxLon) is searched as two boxes.
    const spans: Array<[number, number]> = box.minLon <= box.maxLon ? [[box.minLon, box.maxLon]] : [[box.minLon, 180], [-180, box.maxLon]];
    const hits = new Map<number, true>();
    const nearestEquator = box.minLat <= 0 && box.maxLat >= 0 ? 0 : Math.min(Math.abs(box.minLat), Math.abs(box.maxLat));
    const lonScale = Math.cos((nearestEquator * Math.PI) / 180);
    for (const [minLon, maxLon] of spans) {
      const query = {
        lon: (minLon + maxLon) / 2,
        lat: (box.minLat + box.maxLat) / 2,
        widthM: (maxLon - minLon) * M_PER_DEG * lonScale * 1.02 + 1_000,
        heightM: (box.maxLat - box.minLat) * M_PER_DEG * 1.02 + 1_000,
      };
      for (const h of await this.searchAll(query)) {
        if (h.lat >= box.minLat && h.lat <= box.maxLat && h.lon >= minLon && h.lon <= maxLon) hits.set(h.mmsi, true);
      }
    }
    return this.page([...hits.keys()], limit, cursor);
  }

  async vesselsNear(center: { lon: number; lat: number }, radiusM: number, limit: number, cursor: string | null): Promise<Page<VesselView>> {
    const hits = await this.searchAll({ lon: center.lon, lat: center.lat, radiusM });
    return this.page([...new Set(hits.map((h) => h.mmsi))], limit, cursor);
  }

  private async searchAll(query: Parameters<RedisLiveStateStore['geoSearch']>[1]): Promise<Array<{ mmsi: number; lon: number; lat: number }>> {
    try {
      const perPartition = await Promise.all(Array.from({ length: this.partitions }, (_, p) => this.live.geoSearch(p, query)));
      return perPartition.flat();
    } catch (err) {
      throw classifyRedisError(err, 'searching the geo indexes');
    }
  }

  private async page(mmsis: number[], limit: number, cursor: string | null): Promise<Page<VesselView>> {
    const after = decodeCursor(cursor);
    const sorted = mmsis.filter((m) => m > after).sort((a, b) => a - b);
    const slice = sorted.slice(0, limit);
    const states = await this.live.readStates(slice.map((mmsi) => ({ mmsi, partition: partitionOf(mmsi, this.partitions) })));
    const items = slice.flatMap((m) => {
      const s = states.get(m);
      return s ? [toVesselView(s)] : [];
    });
    const last = slice.at(-1);
    return { items, nextCursor: sorted.length > limit && last !== undefined ? encodeCursor(last) : null };
  }

  async track(mmsi: number, fromMs: number, toMs: number, limit: number): Promise<TrackPoint[]> {
    try {
      const { rows } = await this.pool.query<{ ts: Date; lat: number; lon: number; speed: number | null; course: number | null; heading: number | null; sources: string[] }>(
        `SELECT ts, lat, lon, speed, course, heading, sources FROM ${this.s}.positions
         WHERE mmsi = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz
         ORDER BY ts, report LIMIT $4`,
        [mmsi, new Date(fromMs).toISOString(), new Date(toMs).toISOString(), limit],
      );
      return rows.map((r) => ({ time: r.ts.toISOString(), lat: r.lat, lon: r.lon, speed: r.speed, course: r.course, heading: r.heading, sources: r.sources }));
    } catch (err) {
      throw classifyPgError(err, 'reading a track');
    }
  }

  sources(): Promise<SourceTrustView[]> {
    return this.live.readSources();
  }

  countVessels(): Promise<number> {
    return this.live.countLive(this.partitions);
  }
}

export function toVesselView(s: FusedVesselState): VesselView {
  const st = s.static;
  return {
    mmsi: s.mmsi,
    position:
      s.lat !== null && s.lon !== null
        ? { lat: s.lat, lon: s.lon, speed: s.speed, course: s.course, heading: s.heading, status: s.status, time: new Date(s.ts).toISOString(), source: s.source }
        : null,
    static: st
      ? {
          shipName: st.shipName ?? null,
          callsign: st.callsign ?? null,
          imo: st.imo ?? null,
          shipType: st.shipType ?? null,
          toBow: st.toBow ?? null,
          toStern: st.toStern ?? null,
          toPort: st.toPort ?? null,
          toStarboard: st.toStarboard ?? null,
          draught: st.draught ?? null,
          destination: st.destination ?? null,
          eta: st.eta ?? null,
        }
      : null,
    sources: s.sources,
    lastUpdate: new Date(Math.max(s.ts, st?.updatedAt ?? 0)).toISOString(),
  };
}

export function encodeCursor(afterMmsi: number): string {
  return Buffer.from(JSON.stringify({ a: afterMmsi })).toString('base64url');
}

/** A cursor we did not issue reads as "from the start" would hide bugs: it is rejected instead. */
export function decodeCursor(cursor: string | null): number {
  if (cursor === null || cursor === '') return -1;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (typeof parsed.a === 'number' && Number.isInteger(parsed.a)) return parsed.a;
  } catch {
    // fall through
  }
  throw new InvalidCursorError(cursor);
}

/** The caller's fault (a cursor we never issued), so the API answers 400 and no breaker counts it. */
export class InvalidCursorError extends AisflowError {
  constructor(cursor: string) {
    super('AISFLOW_ERR_API_BAD_REQUEST', `invalid cursor ${JSON.stringify(cursor.slice(0, 64))}: pass nextCursor from the previous page`);
  }
}
