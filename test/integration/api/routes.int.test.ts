import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type ApiDeps } from '../../../pipeline/src/api/server.js';
import { ManualClock } from '../../../pipeline/src/shared/clock.js';
import type { ErrorCodes } from '../../../pipeline/src/shared/errors.js';
import { RetryableStoreError } from '../../../pipeline/src/store/errors.js';
import type { TrackPoint } from '../../../pipeline/src/store/queries.js';
import { createApiMetrics } from '../../../pipeline/src/telemetry/metrics/api.js';
import { memoryDlq, memoryQueries, vessel, type MemoryQueries } from './fixtures.js';
import { assertGeoJsonFeatureCollection } from './geojson-check.js';

/**
 * Every route's shape, validation and auth, driven with inject() over small in-memory
 * implementations of VesselQueries and DlqAdmin (pipeline.int.test.ts runs the same routes
 * against the real stores filled by the real pipeline).
 */
const TOKEN = 'test-admin-token-0123456789';
const now = Date.parse('2026-11-28T20:00:00Z');

const vessels = Array.from({ length: 25 }, (_, i) => vessel(244_000_000 + i, 4 + i * 0.01, 52 + i * 0.01));
vessels.push(vessel(366_999_999, -122.4, 37.8));
const track: TrackPoint[] = Array.from({ length: 30 }, (_, i) => ({
  time: new Date(now - (30 - i) * 60_000).toISOString(),
  lat: 52 + i * 0.001,
  lon: 4 + i * 0.002,
  speed: 12,
  course: 45,
  heading: 44,
  sources: ['rx-a'],
}));

function deps(overrides: Partial<ApiDeps> = {}): ApiDeps & { queries: MemoryQueries } {
  const registry = new Registry();
  return {
    queries: memoryQueries(vessels, new Map([[244_000_000, track]]), [
      { id: 'rx-b', score: 0.4, state: 'demoted', demotions: 2, accepted: 10, rejected: 8, lastSeen: now - 5000, rate: 1.5 },
      { id: 'rx-a', score: 0.98, state: 'trusted', demotions: 0, accepted: 900, rejected: 1, lastSeen: now, rate: 20 },
    ]),
    dlq: memoryDlq([
      { seq: 3, subject: 'ais.dlq.decode.rx-a', time: '2026-11-28T19:00:00.000Z', stage: 'decode', reason: 'checksum_mismatch', detail: 'want 5C got 5D', source: 'rx-a', raw: '!AIVDM,1,1,,A,bad,0*5D' },
      { seq: 4, subject: 'ais.dlq.fusion.7', time: '2026-11-28T19:01:00.000Z', stage: 'fusion', reason: 'AISFLOW_ERR_STORE_UNRECOVERABLE', detail: 'bad value', source: 'rx-b', record: { mmsi: 1 }, deliveries: 5 },
      { seq: 9, subject: 'ais.dlq.decode.rx-b', time: '2026-11-28T19:02:00.000Z', stage: 'decode', reason: 'unknown_type', detail: 'type 63', source: 'rx-b', raw: '!AIVDM,1,1,,A,w,0*00' },
    ]),
    dlqStreamName: 'AIS_DLQ',
    adminToken: TOKEN,
    registry,
    metrics: createApiMetrics(registry),
    updates: null,
    streamStats: null,
    clock: new ManualClock(now),
    limits: { maxPageSize: 10, defaultPageSize: 10, maxTrackPoints: 20, maxTrackRangeMs: 24 * 3_600_000 },
    ...overrides,
  } as ApiDeps & { queries: MemoryQueries };
}

let app: FastifyInstance;
let d: ReturnType<typeof deps>;
beforeAll(async () => {
  d = deps();
  app = buildServer(d);
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: keyof typeof ErrorCodes, text?: string): void {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { code: string; message: string };
  expect(Object.keys(body).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
  expect(body.code).toBe(code);
  if (text) expect(body.message).toContain(text);
}

describe('GET /v1/vessels/:mmsi', () => {
  it('returns the fused state with position, static data and sources', async () => {
    const res = await app.inject('/v1/vessels/244000003');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(vessels[3]);
  });

  it('404s an unknown vessel with the error shape', async () => {
    expectError(await app.inject('/v1/vessels/111111111'), 404, 'AISFLOW_ERR_API_NOT_FOUND', '111111111');
  });

  it.each(['12345', '1234567890', 'abcdefghi', '24400000%20'])('400s MMSI %j', async (mmsi) => {
    expectError(await app.inject(`/v1/vessels/${mmsi}`), 400, 'AISFLOW_ERR_API_INVALID_MMSI', 'exactly 9 digits');
  });
});

describe('GET /v1/vessels (area)', () => {
  it('pages through a bbox with cursors until nextCursor is null, each vessel once', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/vessels?bbox=3,51,5,53&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: { mmsi: number }[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(10);
      seen.push(...body.items.map((v) => v.mmsi));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(vessels.slice(0, 25).map((v) => v.mmsi));
  });

  it('finds vessels near a point within a radius', async () => {
    const res = await app.inject('/v1/vessels?near=-122.4,37.8&radius_m=1000');
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: { mmsi: number }[] }).items.map((v) => v.mmsi)).toEqual([366999999]);
  });

  it.each([
    ['/v1/vessels', 'AISFLOW_ERR_API_BAD_REQUEST', 'give an area'],
    ['/v1/vessels?bbox=1,2,3', 'AISFLOW_ERR_API_INVALID_BBOX', '4 comma-separated numbers'],
    ['/v1/vessels?bbox=0,60,10,50', 'AISFLOW_ERR_API_INVALID_BBOX', 'greater than maxLat'],
    ['/v1/vessels?bbox=0,0,200,1', 'AISFLOW_ERR_API_INVALID_BBOX', 'maxLon 200 is outside'],
    ['/v1/vessels?bbox=0,0,1,1&near=0,0&radius_m=5', 'AISFLOW_ERR_API_BAD_REQUEST', 'not both'],
    ['/v1/vessels?near=0,0', 'AISFLOW_ERR_API_BAD_REQUEST', 'needs radius_m'],
    ['/v1/vessels?near=0,0&radius_m=900000', 'AISFLOW_ERR_API_BAD_REQUEST', 'at most 500000'],
    ['/v1/vessels?bbox=0,0,1,1&limit=11', 'AISFLOW_ERR_API_BAD_REQUEST', 'limit must be <= 10'],
    ['/v1/vessels?bbox=0,0,1,1&limit=zero', 'AISFLOW_ERR_API_BAD_REQUEST', 'limit must be integer'],
  ] as const)('400s %s', async (url, code, text) => {
    expectError(await app.inject(url), 400, code, text);
  });
});

describe('GET /v1/vessels/:mmsi/track', () => {
  it('returns JSON points oldest first, bounded by limit and flagged truncated', async () => {
    const res = await app.inject('/v1/vessels/244000000/track?from=2026-11-28T19:00:00Z&to=2026-11-28T20:00:00Z&limit=5');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { mmsi: number; truncated: boolean; points: TrackPoint[]; from: string; to: string };
    expect(body).toMatchObject({ mmsi: 244000000, truncated: true, from: '2026-11-28T19:00:00.000Z', to: '2026-11-28T20:00:00.000Z' });
    expect(body.points).toEqual(track.slice(0, 5));
    // The route asks for one point more than it returns, to know whether it truncated.
    expect(d.queries.calls.at(-1)).toBe(`track 244000000 ${now - 3_600_000} ${now} 6`);
  });

  it('defaults to the last hour and the point bound', async () => {
    const res = await app.inject('/v1/vessels/244000000/track');
    const body = res.json() as { truncated: boolean; points: TrackPoint[] };
    expect(body.points).toHaveLength(20);
    expect(body.truncated).toBe(true);
  });

  it('returns valid RFC 7946 GeoJSON', async () => {
    const res = await app.inject('/v1/vessels/244000000/track?format=geojson&limit=20');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/geo+json');
    assertGeoJsonFeatureCollection(res.json());
    const fc = res.json() as { features: { geometry: { type: string; coordinates: number[][] } }[] };
    expect(fc.features[0]!.geometry.type).toBe('LineString');
    expect(fc.features[0]!.geometry.coordinates[0]).toEqual([track[0]!.lon, track[0]!.lat]);
  });

  it.each([
    ['/v1/vessels/244000000/track?from=2026-11-28T21:00:00Z&to=2026-11-28T20:00:00Z', 'is after to'],
    ['/v1/vessels/244000000/track?from=2026-01-01T00:00:00Z&to=2026-11-28T20:00:00Z', 'at most 24 h'],
    ['/v1/vessels/244000000/track?from=last-week', 'ISO 8601'],
  ])('400s %s', async (url, text) => {
    expectError(await app.inject(url), 400, 'AISFLOW_ERR_API_INVALID_RANGE', text);
  });

  it('400s an unknown format and a bad MMSI', async () => {
    expectError(await app.inject('/v1/vessels/244000000/track?format=kml'), 400, 'AISFLOW_ERR_API_BAD_REQUEST', 'format');
    expectError(await app.inject('/v1/vessels/24400000/track'), 400, 'AISFLOW_ERR_API_INVALID_MMSI');
  });
});

describe('GET /v1/sources', () => {
  it('lists sources sorted by id with ISO times', async () => {
    const res = await app.inject('/v1/sources');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { sources: { id: string; lastSeen: string; state: string }[] };
    expect(body.sources.map((s) => s.id)).toEqual(['rx-a', 'rx-b']);
    expect(body.sources[1]).toMatchObject({ state: 'demoted', lastSeen: '2026-11-28T19:59:55.000Z', demotions: 2 });
  });
});

describe('ops routes', () => {
  it('serves Prometheus text with the api metrics and the default process metrics', async () => {
    await app.inject('/v1/vessels/244000003');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/aisflow_api_requests_total\{route="\/v1\/vessels\/:mmsi",method="GET",status_code="200"\} \d+/);
    expect(res.body).toContain('aisflow_api_vessels_live 26');
    expect(res.body).toContain('aisflow_api_dlq_messages 3');
    expect(res.body).toContain('aisflow_api_request_duration_seconds_bucket');
  });

  it('labels unmatched URLs as one route, never the raw path', async () => {
    await app.inject('/no/such/path/123');
    const res = await app.inject('/metrics');
    expect(res.body).toContain('route="unmatched"');
    expect(res.body).not.toContain('/no/such/path');
  });

  it('answers healthz and readyz', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready' });
  });

  it('summarizes what it can and says what it could not read', async () => {
    const res = await app.inject('/metrics/summary');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      vessels: 26,
      stream: null,
      messagesPerSecond: 21.5,
      breakers: { redis: 'closed', postgres: 'closed' },
      errors: ['stream: no NATS connection', 'dlq: no NATS connection'],
    });
  });

  it('opens the breaker after repeated store failures: 503s at once and readyz fails', async () => {
    const local = deps({ breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } });
    const server = buildServer(local);
    local.queries.failWith = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (let i = 0; i < 3; i++) expectError(await server.inject('/v1/vessels/244000003'), 500, 'AISFLOW_ERR_INTERNAL');
    local.queries.calls.length = 0;
    expectError(await server.inject('/v1/vessels/244000003'), 503, 'AISFLOW_ERR_API_UNAVAILABLE', 'redis is unavailable');
    expect(local.queries.calls).toEqual([]);
    // History is another store with its own breaker.
    local.queries.failWith = null;
    expect((await server.inject('/v1/vessels/244000000/track')).statusCode).toBe(200);
    const ready = await server.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'not_ready', failing: { 'breaker:redis': 'circuit breaker open after repeated failures' } });
    expect((await server.inject('/metrics')).body).toContain('aisflow_api_breaker_state{store="redis"} 2');
    await server.close();
  });

  it('maps store errors by code: a bad cursor is a 400 that never trips the breaker; an outage is a 503 without internals', async () => {
    const local = deps({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    const server = buildServer(local);
    // The store's cursor error is a RangeError carrying a catalogue code, not an AisflowError.
    local.queries.failWith = Object.assign(new RangeError('invalid cursor "zz"'), { code: 'AISFLOW_ERR_API_BAD_REQUEST' });
    for (let i = 0; i < 4; i++) expectError(await server.inject('/v1/vessels?bbox=0,0,1,1&cursor=zz'), 400, 'AISFLOW_ERR_API_BAD_REQUEST', 'invalid cursor');
    local.queries.failWith = new RetryableStoreError('redis', 'connect ECONNREFUSED 10.1.2.3:6379');
    const res = await server.inject('/v1/vessels/244000003');
    expectError(res, 503, 'AISFLOW_ERR_STORE_RETRYABLE', 'temporarily unavailable');
    expect(res.body).not.toContain('10.1.2.3');
    expect(await server.inject('/readyz').then((r) => r.statusCode)).toBe(200);
    await server.close();
  });

  it('reports failing readiness checks by name', async () => {
    const server = buildServer(deps({ readiness: [{ name: 'nats', check: () => 'disconnected' }, { name: 'postgres', check: () => true }] }));
    const res = await server.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not_ready', failing: { nats: 'disconnected' } });
    await server.close();
  });
});

describe('admin routes', () => {
  const routes = [
    ['GET', '/admin/dlq/stats'],
    ['GET', '/admin/dlq/peek'],
    ['POST', '/admin/dlq/retry'],
    ['DELETE', '/admin/dlq?confirm=AIS_DLQ'],
  ] as const;

  it.each(routes)('%s %s: 401 without a token', async (method, url) => {
    expectError(await app.inject({ method, url }), 401, 'AISFLOW_ERR_API_UNAUTHORIZED');
    expectError(await app.inject({ method, url, headers: { authorization: `Basic ${TOKEN}` } }), 401, 'AISFLOW_ERR_API_UNAUTHORIZED');
  });

  it.each(routes)('%s %s: 403 with a wrong token', async (method, url) => {
    expectError(await app.inject({ method, url, headers: { authorization: 'Bearer wrong' } }), 403, 'AISFLOW_ERR_API_FORBIDDEN');
  });

  it.each(routes)('%s %s: disabled when no token is configured', async (method, url) => {
    const server = buildServer(deps({ adminToken: null }));
    expectError(await server.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` } }), 404, 'AISFLOW_ERR_API_DISABLED', 'AISFLOW_ADMIN_TOKEN');
    await server.close();
  });

  it('stats, peek, retry and purge with the token', async () => {
    const local = deps();
    const server = buildServer(local);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await server.inject({ url: '/admin/dlq/stats', headers: auth })).json()).toEqual({
      messages: 3,
      bytes: 300,
      firstSeq: 3,
      lastSeq: 9,
      byStage: { decode: 2, fusion: 1 },
    });
    const peek = (await server.inject({ url: '/admin/dlq/peek?limit=2&after_seq=3', headers: auth })).json() as { entries: { seq: number; record?: unknown }[] };
    expect(peek.entries.map((e) => e.seq)).toEqual([4, 9]);
    expect(peek.entries[0]!.record).toEqual({ mmsi: 1 });
    const retry = await server.inject({ method: 'POST', url: '/admin/dlq/retry', headers: auth, payload: { seqs: [4] } });
    expect(retry.json()).toEqual({ retried: 1, failed: 0 });
    expectError(await server.inject({ method: 'POST', url: '/admin/dlq/retry', headers: auth, payload: { seqs: [4], limit: 2 } }), 400, 'AISFLOW_ERR_API_BAD_REQUEST', 'not both');
    expectError(await server.inject({ method: 'POST', url: '/admin/dlq/retry', headers: auth, payload: { seqs: [] } }), 400, 'AISFLOW_ERR_API_BAD_REQUEST');
    expectError(await server.inject({ method: 'DELETE', url: '/admin/dlq', headers: auth }), 400, 'AISFLOW_ERR_API_CONFIRMATION_REQUIRED', 'confirm=AIS_DLQ');
    expectError(await server.inject({ method: 'DELETE', url: '/admin/dlq?confirm=yes', headers: auth }), 400, 'AISFLOW_ERR_API_CONFIRMATION_REQUIRED');
    expect((await server.inject({ method: 'DELETE', url: '/admin/dlq?confirm=AIS_DLQ', headers: auth })).json()).toEqual({ purged: 2 });
    expect((await server.inject({ url: '/admin/dlq/stats', headers: auth })).json()).toMatchObject({ messages: 0 });
    await server.close();
  });

  it('503s when the DLQ is not reachable', async () => {
    const server = buildServer(deps({ dlq: null }));
    expectError(await server.inject({ url: '/admin/dlq/stats', headers: { authorization: `Bearer ${TOKEN}` } }), 503, 'AISFLOW_ERR_API_UNAVAILABLE');
    await server.close();
  });
});

describe('OpenAPI', () => {
  it('serves a document that validates and lists every route', async () => {
    const res = await app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/admin/dlq',
      '/admin/dlq/peek',
      '/admin/dlq/retry',
      '/admin/dlq/stats',
      '/healthz',
      '/metrics',
      '/metrics/summary',
      '/readyz',
      '/v1/sources',
      '/v1/stream',
      '/v1/vessels',
      '/v1/vessels/{mmsi}',
      '/v1/vessels/{mmsi}/track',
    ]);
  });

  it('serves the UI at /docs', async () => {
    const res = await app.inject('/docs');
    expect([200, 302]).toContain(res.statusCode);
    const page = res.statusCode === 302 ? await app.inject(res.headers.location as string) : res;
    expect(page.body).toContain('swagger');
  });
});
