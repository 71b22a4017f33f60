import { Type, type TSchema } from '@sinclair/typebox';

/**
 * JSON schemas of every route (TypeBox, i.e. plain JSON Schema). fastify validates requests and
 * serializes responses with them, and @fastify/swagger turns them into the OpenAPI document at
 * /docs, so the documentation cannot drift from what the server does.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: 'stable error code, see docs/errors.md', examples: ['AISFLOW_ERR_API_INVALID_MMSI'] }),
    message: Type.String(),
    details: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { $id: 'Error', description: 'Every error the API returns has this shape' },
);

const Eta = Type.Object({
  month: Nullable(Type.Integer()),
  day: Nullable(Type.Integer()),
  hour: Nullable(Type.Integer()),
  minute: Nullable(Type.Integer()),
});

export const Vessel = Type.Object(
  {
    mmsi: Type.Integer({ description: 'Maritime Mobile Service Identity' }),
    position: Nullable(
      Type.Object({
        lat: Type.Number({ description: 'degrees, WGS84' }),
        lon: Type.Number({ description: 'degrees, WGS84' }),
        speed: Nullable(Type.Number({ description: 'knots' })),
        course: Nullable(Type.Number({ description: 'degrees true' })),
        heading: Nullable(Type.Number({ description: 'degrees true' })),
        status: Nullable(Type.Integer({ description: 'navigational status (AIS code)' })),
        time: Type.String({ format: 'date-time', description: 'time of the report' }),
        source: Type.String({ description: 'the source whose report won' }),
      }),
    ),
    static: Nullable(
      Type.Object({
        shipName: Nullable(Type.String()),
        callsign: Nullable(Type.String()),
        imo: Nullable(Type.Integer()),
        shipType: Nullable(Type.Integer()),
        toBow: Nullable(Type.Number({ description: 'metres' })),
        toStern: Nullable(Type.Number({ description: 'metres' })),
        toPort: Nullable(Type.Number({ description: 'metres' })),
        toStarboard: Nullable(Type.Number({ description: 'metres' })),
        draught: Nullable(Type.Number({ description: 'metres' })),
        destination: Nullable(Type.String()),
        eta: Nullable(Eta),
      }),
    ),
    sources: Type.Array(Type.String(), { description: 'sources that heard this vessel recently, most recent first' }),
    lastUpdate: Type.String({ format: 'date-time' }),
  },
  { $id: 'Vessel' },
);

export const VesselPage = Type.Object({
  items: Type.Array(Type.Ref('Vessel')),
  nextCursor: Nullable(Type.String({ description: 'pass as cursor= for the next page; null on the last page' })),
});

export const TrackPoint = Type.Object({
  time: Type.String({ format: 'date-time' }),
  lat: Type.Number(),
  lon: Type.Number(),
  speed: Nullable(Type.Number()),
  course: Nullable(Type.Number()),
  heading: Nullable(Type.Number()),
  sources: Type.Array(Type.String()),
});

export const TrackJson = Type.Object({
  mmsi: Type.Integer(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  truncated: Type.Boolean({ description: 'true when the range held more points than `limit`: ask again from the last point' }),
  points: Type.Array(TrackPoint),
});

const Position = Type.Array(Type.Number(), { minItems: 2, maxItems: 3, description: '[lon, lat] (RFC 7946 §3.1.1)' });

/** RFC 7946 FeatureCollection of the track: a LineString (≥ 2 points) or a Point (1 point). */
export const TrackGeoJson = Type.Object({
  type: Type.Literal('FeatureCollection'),
  bbox: Type.Optional(Type.Array(Type.Number(), { minItems: 4, maxItems: 4 })),
  features: Type.Array(
    Type.Object({
      type: Type.Literal('Feature'),
      geometry: Type.Object({
        type: Type.Union([Type.Literal('LineString'), Type.Literal('Point')]),
        coordinates: Type.Union([Position, Type.Array(Position)]),
      }),
      properties: Type.Object({
        mmsi: Type.Integer(),
        times: Type.Array(Type.String({ format: 'date-time' })),
        speeds: Type.Array(Nullable(Type.Number())),
        courses: Type.Array(Nullable(Type.Number())),
        truncated: Type.Boolean(),
      }),
    }),
  ),
});

export const Source = Type.Object({
  id: Type.String(),
  score: Type.Number({ minimum: 0, maximum: 1, description: '0 distrusted .. 1 fully trusted' }),
  state: Type.Union([Type.Literal('trusted'), Type.Literal('demoted'), Type.Literal('recovering')]),
  demotions: Type.Integer(),
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  lastSeen: Type.String({ format: 'date-time' }),
  rate: Type.Number({ description: 'messages per second over the last minute' }),
});

export const SourceList = Type.Object({ sources: Type.Array(Source) });

export const DlqStats = Type.Object({
  messages: Type.Integer(),
  bytes: Type.Integer(),
  firstSeq: Type.Integer(),
  lastSeq: Type.Integer(),
  byStage: Type.Object({ decode: Type.Integer(), fusion: Type.Integer() }),
});

export const DlqEntry = Type.Object({
  seq: Type.Integer(),
  subject: Type.String(),
  time: Type.String(),
  stage: Type.Union([Type.Literal('decode'), Type.Literal('fusion')]),
  reason: Type.String(),
  detail: Type.String(),
  source: Nullable(Type.String()),
  raw: Type.Optional(Type.String()),
  record: Type.Optional(Type.Unknown()),
  deliveries: Type.Optional(Type.Integer()),
});

export const Summary = Type.Object({
  time: Type.String({ format: 'date-time' }),
  vessels: Nullable(Type.Integer({ description: 'live vessels in Redis' })),
  stream: Nullable(
    Type.Object({
      name: Type.String(),
      messages: Type.Integer(),
      bytes: Type.Integer(),
      lastSeq: Type.Integer(),
      batchesPerSecond: Nullable(Type.Number({ description: 'record batches published per second since the previous summary' })),
      consumers: Type.Integer(),
      pending: Type.Integer({ description: 'messages not yet delivered to fusion, summed over consumers (the lag)' }),
      ackPending: Type.Integer({ description: 'delivered, not yet acknowledged' }),
    }),
  ),
  dlq: Nullable(Type.Object({ name: Type.String(), messages: Type.Integer(), bytes: Type.Integer() })),
  sources: Type.Array(
    Type.Object({ id: Type.String(), state: Type.String(), score: Type.Number(), rate: Type.Number() }),
  ),
  messagesPerSecond: Type.Number({ description: 'sum of the sources’ rates (records per second)' }),
  breakers: Type.Record(Type.String(), Type.Union([Type.Literal('closed'), Type.Literal('half_open'), Type.Literal('open')])),
  errors: Type.Array(Type.String(), { description: 'parts that could not be read, and why' }),
});

export const HealthResponse = Type.Object({ status: Type.Literal('ok') });
export const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  failing: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export const errorResponses = {
  400: Type.Ref('Error'),
  404: Type.Ref('Error'),
  500: Type.Ref('Error'),
  503: Type.Ref('Error'),
};
