import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../../../pipeline/src/ais/decoder.js';
import { ManualClock } from '../../../pipeline/src/shared/clock.js';
import { repoRoot, startPipeline, type RunningPipeline } from '../../harness/pipeline.js';
import { assertGeoJsonFeatureCollection } from './geojson-check.js';

/**
 * The API against the real stores, filled by the real pipeline: `aisflow migrate`, `aisflow
 * ingest` replaying a bundled capture, `aisflow fusion` writing Redis and Postgres (through
 * PgBouncer), and `aisflow api` reading them, all as separate processes. What the API returns
 * is checked against the capture decoded here directly. (SSE from the real fusion is checked by
 * test/e2e/demo.e2e.test.ts, where the looped replay keeps updates flowing.)
 */
// Captures without receive times of their own (no tag blocks, no USCG trailers): ingest stamps
// them with its clock, so fusion sees fresh reports rather than years-old (stale) ones.
const mainCapture = join(repoRoot, 'pipeline/data/ais/gpsd-sample.aivdm');


interface Decoded {
  positions: Map<number, Array<[number, number]>>;
  names: Map<number, string>;
}

function decodeFile(file: string): Decoded {
  const decoder = createDecoder({ clock: new ManualClock(0) });
  const positions = new Map<number, Array<[number, number]>>();
  const names = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const out = decoder.decode(line);
    if (out.kind !== 'message') continue;
    const m = out.message as { mmsi: number; lat?: unknown; lon?: unknown; shipName?: unknown };
    if (typeof m.lat === 'number' && typeof m.lon === 'number') positions.set(m.mmsi, [...(positions.get(m.mmsi) ?? []), [m.lon, m.lat]]);
    if (typeof m.shipName === 'string' && m.shipName.length > 0) names.set(m.mmsi, m.shipName);
  }
  return { positions, names };
}

interface ApiVessel {
  mmsi: number;
  position: { lat: number; lon: number; time: string; source: string } | null;
  static: { shipName: string | null } | null;
  sources: string[];
}

const near = (a: [number, number], lon: number, lat: number) => Math.abs(a[0] - lon) < 1e-5 && Math.abs(a[1] - lat) < 1e-5;

let p: RunningPipeline;
const capture = decodeFile(mainCapture);
beforeAll(async () => {
  p = await startPipeline({ capture: mainCapture, partitions: 4 });
  await p.settled();
}, 240_000);
afterAll(async () => {
  await p?.stop();
}, 120_000);

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; type: string }> {
  const res = await fetch(`${p.api}${path}`, { headers });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, body: type.includes('json') ? await res.json() : await res.text(), type };
}

async function allVessels(limit: number): Promise<{ vessels: ApiVessel[]; pages: number }> {
  const vessels: ApiVessel[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`/v1/vessels?bbox=-180,-90,180,90&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    const body = res.body as { items: ApiVessel[]; nextCursor: string | null };
    expect(body.items.length).toBeLessThanOrEqual(limit);
    vessels.push(...body.items);
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 100);
  return { vessels, pages };
}

describe('API over the real pipeline', () => {
  it('pages through every vessel, each once, each from the capture at a reported position', async () => {
    const { vessels, pages } = await allVessels(7);
    expect(vessels.length).toBeGreaterThan(5);
    expect(pages).toBe(Math.ceil(vessels.length / 7));
    expect(new Set(vessels.map((v) => v.mmsi)).size).toBe(vessels.length);
    for (const v of vessels) {
      const known = capture.positions.get(v.mmsi);
      expect(known, `${v.mmsi} is not a vessel of the capture`).toBeDefined();
      expect(v.position).not.toBeNull();
      expect(known!.some((k) => near(k, v.position!.lon, v.position!.lat)), `${v.mmsi} at ${v.position!.lon},${v.position!.lat}`).toBe(true);
      expect(v.position!.source).toBe('capture');
    }
  });

  it('returns one vessel with its static data, and 404/400 as documented', async () => {
    const { vessels } = await allVessels(50);
    const withName = vessels.find((v) => capture.names.has(v.mmsi)) ?? vessels[0]!;
    const res = await get(`/v1/vessels/${String(withName.mmsi).padStart(9, '0')}`);
    expect(res.status).toBe(200);
    const v = res.body as ApiVessel;
    expect(v.mmsi).toBe(withName.mmsi);
    if (capture.names.has(v.mmsi)) expect(v.static?.shipName).toBe(capture.names.get(v.mmsi));
    expect((await get('/v1/vessels/999999998')).status).toBe(404);
    expect(((await get('/v1/vessels/12345')).body as { code: string }).code).toBe('AISFLOW_ERR_API_INVALID_MMSI');
    expect(((await get('/v1/vessels?bbox=1,2,3')).body as { code: string }).code).toBe('AISFLOW_ERR_API_INVALID_BBOX');
  });

  it('finds a vessel near its own position', async () => {
    const { vessels } = await allVessels(50);
    const v = vessels[0]!;
    const res = await get(`/v1/vessels?near=${v.position!.lon},${v.position!.lat}&radius_m=1000&limit=50`);
    expect(res.status).toBe(200);
    expect((res.body as { items: ApiVessel[] }).items.map((i) => i.mmsi)).toContain(v.mmsi);
  });

  it('serves the history of a vessel as JSON and as valid GeoJSON', async () => {
    const { vessels } = await allVessels(50);
    // The vessel the capture reports most often has the longest track.
    const busiest = [...vessels].sort((a, b) => capture.positions.get(b.mmsi)!.length - capture.positions.get(a.mmsi)!.length)[0]!;
    const mmsi = String(busiest.mmsi).padStart(9, '0');
    const json = await get(`/v1/vessels/${mmsi}/track`);
    expect(json.status).toBe(200);
    const track = json.body as { points: { time: string; lon: number; lat: number }[]; truncated: boolean };
    expect(track.points.length).toBeGreaterThan(0);
    for (const pt of track.points) expect(capture.positions.get(busiest.mmsi)!.some((k) => near(k, pt.lon, pt.lat))).toBe(true);
    const times = track.points.map((pt) => Date.parse(pt.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const geo = await get(`/v1/vessels/${mmsi}/track?format=geojson`);
    expect(geo.status).toBe(200);
    expect(geo.type).toContain('application/geo+json');
    assertGeoJsonFeatureCollection(geo.body);
    expect(((await get(`/v1/vessels/${mmsi}/track?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`)).body as { code: string }).code).toBe('AISFLOW_ERR_API_INVALID_RANGE');
  });

  it('lists the source with its trust state', async () => {
    // Fusion publishes its trust views every AISFLOW_FUSION_SOURCES_INTERVAL_MS (5 s), which can
    // come after the pipeline has caught up: poll, bounded.
    type Source = { id: string; score: number; accepted: number };
    let src: Source | undefined;
    for (let attempt = 0; attempt < 60 && !src; attempt++) {
      const res = await get('/v1/sources');
      expect(res.status).toBe(200);
      src = (res.body as { sources: Source[] }).sources.find((s) => s.id === 'capture');
      if (!src) await new Promise((r) => setTimeout(r, 500));
    }
    expect(src).toBeDefined();
    expect(src!.accepted).toBeGreaterThan(0);
  });

  it('summarizes the pipeline and is ready', async () => {
    const summary = (await get('/metrics/summary')).body as { vessels: number; stream: { messages: number; pending: number }; dlq: { messages: number }; errors: string[] };
    expect(summary.errors).toEqual([]);
    expect(summary.vessels).toBeGreaterThan(5);
    expect(summary.stream.messages).toBeGreaterThan(0);
    expect(summary.stream.pending).toBe(0);
    expect((await get('/readyz')).status).toBe(200);
    const metrics = (await get('/metrics')).body as string;
    expect(metrics).toMatch(/aisflow_api_vessels_live \d+/);
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('guards the admin routes and reads the real DLQ', async () => {
    expect((await get('/admin/dlq/stats')).status).toBe(401);
    expect((await get('/admin/dlq/stats', { authorization: 'Bearer nope' })).status).toBe(403);
    const stats = await get('/admin/dlq/stats', { authorization: `Bearer ${p.adminToken}` });
    expect(stats.status).toBe(200);
    const s = stats.body as { messages: number; byStage: { decode: number; fusion: number } };
    expect(s.byStage.decode + s.byStage.fusion).toBe(s.messages);
    const peek = await get('/admin/dlq/peek?limit=5', { authorization: `Bearer ${p.adminToken}` });
    expect(peek.status).toBe(200);
    expect((peek.body as { entries: unknown[] }).entries.length).toBe(Math.min(5, s.messages));
    const purge = await fetch(`${p.api}/admin/dlq`, { method: 'DELETE', headers: { authorization: `Bearer ${p.adminToken}` } });
    expect(purge.status).toBe(400);
  });

  it('serves an OpenAPI document that validates', async () => {
    const doc = (await get('/docs/json')).body;
    await SwaggerParser.validate(structuredClone(doc) as never);
  });
});
