import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { trackToGeoJson } from '../geojson.js';
import { parseBbox, parseMmsi, parseNear, parseTimeRange } from '../params.js';
import { errorResponses, TrackGeoJson, TrackJson, VesselPage } from '../schemas.js';
import type { ApiContext } from '../server.js';

const MmsiParams = Type.Object({
  mmsi: Type.String({ description: 'the vessel’s MMSI, exactly 9 digits', examples: ['244670000'] }),
});

export function vesselRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { limits, guarded, clock } = ctx;

  app.get<{ Params: { mmsi: string } }>(
    '/v1/vessels/:mmsi',
    {
      schema: {
        tags: ['vessels'],
        summary: 'Fused live state of one vessel: position, static and voyage data, the sources that heard it',
        params: MmsiParams,
        response: { 200: Type.Ref('Vessel'), ...errorResponses },
      },
    },
    async (request) => {
      const mmsi = parseMmsi(request.params.mmsi);
      const vessel = await guarded.queries.getVessel(mmsi);
      if (vessel === null) throw new ApiError('AISFLOW_ERR_API_NOT_FOUND', `no live vessel with MMSI ${request.params.mmsi}`, { mmsi });
      return vessel;
    },
  );

  app.get<{ Querystring: { bbox?: string; near?: string; radius_m?: number; limit?: number; cursor?: string } }>(
    '/v1/vessels',
    {
      schema: {
        tags: ['vessels'],
        summary: 'Vessels in an area (bbox= or near=&radius_m=), from the live geo index, one page at a time',
        querystring: Type.Object({
          bbox: Type.Optional(Type.String({ maxLength: 200, description: 'minLon,minLat,maxLon,maxLat (WGS84 degrees)', examples: ['-10,48,3,60'] })),
          near: Type.Optional(Type.String({ maxLength: 100, description: 'lon,lat of a centre; needs radius_m', examples: ['-1.2,50.8'] })),
          radius_m: Type.Optional(Type.Number({ description: `metres around near=, at most ${limits.maxRadiusM}` })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.maxPageSize, default: limits.defaultPageSize })),
          cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
        }),
        response: { 200: VesselPage, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? limits.defaultPageSize;
      const cursor = q.cursor === undefined || q.cursor === '' ? null : q.cursor;
      if (q.bbox !== undefined && q.near !== undefined) {
        throw new ApiError('AISFLOW_ERR_API_BAD_REQUEST', 'give either bbox= or near=&radius_m=, not both');
      }
      if (q.bbox !== undefined) return guarded.queries.vesselsInBox(parseBbox(q.bbox), limit, cursor);
      if (q.near !== undefined) {
        const near = parseNear(q.near, q.radius_m, limits.maxRadiusM);
        return guarded.queries.vesselsNear(near.center, near.radiusM, limit, cursor);
      }
      if (q.radius_m !== undefined) throw new ApiError('AISFLOW_ERR_API_BAD_REQUEST', 'radius_m= needs near=lon,lat');
      throw new ApiError('AISFLOW_ERR_API_BAD_REQUEST', 'give an area: bbox=minLon,minLat,maxLon,maxLat or near=lon,lat&radius_m=metres', {
        parameter: 'bbox',
      });
    },
  );

  app.get<{ Params: { mmsi: string }; Querystring: { from?: string; to?: string; format?: 'json' | 'geojson'; limit?: number } }>(
    '/v1/vessels/:mmsi/track',
    {
      schema: {
        tags: ['vessels'],
        summary: 'Position history from Postgres over [from, to], oldest first, bounded in points and range',
        params: MmsiParams,
        querystring: Type.Object({
          from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 with zone, or ms since the epoch; default 1 h before now (or before to)' })),
          to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 with zone, or ms since the epoch; default now plus the clock skew fusion accepts (60 s): reports stamped by receiver clocks running ahead are part of the latest track' })),
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('geojson')], { default: 'json' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.maxTrackPoints, default: limits.maxTrackPoints })),
        }),
        response: {
          200: {
            description: 'json: the points; geojson: an RFC 7946 FeatureCollection (application/geo+json)',
            content: { 'application/json': { schema: TrackJson }, 'application/geo+json': { schema: TrackGeoJson } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const mmsi = parseMmsi(request.params.mmsi);
      const { fromMs, toMs } = parseTimeRange(request.query, clock.now(), {
        defaultRangeMs: limits.defaultTrackRangeMs,
        maxRangeMs: limits.maxTrackRangeMs,
        aheadMs: limits.trackAheadMs,
      });
      const limit = request.query.limit ?? limits.maxTrackPoints;
      // One extra point tells a full page from a truncated one without a count query.
      const points = await guarded.queries.track(mmsi, fromMs, toMs, limit + 1);
      const truncated = points.length > limit;
      const kept = truncated ? points.slice(0, limit) : points;
      if (request.query.format === 'geojson') {
        reply.type('application/geo+json');
        return trackToGeoJson(mmsi, kept, truncated);
      }
      reply.type('application/json; charset=utf-8');
      return { mmsi, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), truncated, points: kept };
    },
  );
}
