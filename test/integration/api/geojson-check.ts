import { expect } from 'vitest';

/** Structural checks of RFC 7946 §3: a FeatureCollection of Features with valid geometries. */
export function assertGeoJsonFeatureCollection(doc: unknown): void {
  const fc = doc as { type: string; features: unknown[]; bbox?: number[] };
  expect(fc.type).toBe('FeatureCollection');
  expect(Array.isArray(fc.features)).toBe(true);
  const isPosition = (p: unknown) =>
    Array.isArray(p) && (p.length === 2 || p.length === 3) && p.every((n) => typeof n === 'number' && Number.isFinite(n)) && (p[0] as number) >= -180 && (p[0] as number) <= 180 && (p[1] as number) >= -90 && (p[1] as number) <= 90;
  for (const f of fc.features) {
    const feature = f as { type: string; geometry: { type: string; coordinates: unknown }; properties: unknown };
    expect(feature.type).toBe('Feature');
    expect(typeof feature.properties).toBe('object');
    const g = feature.geometry;
    if (g.type === 'Point') expect(isPosition(g.coordinates)).toBe(true);
    else if (g.type === 'LineString') {
      expect(Array.isArray(g.coordinates) && (g.coordinates as unknown[]).length >= 2).toBe(true);
      expect((g.coordinates as unknown[]).every(isPosition)).toBe(true);
    } else throw new Error(`unexpected geometry ${g.type}`);
  }
  if (fc.bbox) {
    expect(fc.bbox).toHaveLength(4);
    expect(fc.bbox[0]!).toBeLessThanOrEqual(fc.bbox[2]!);
    expect(fc.bbox[1]!).toBeLessThanOrEqual(fc.bbox[3]!);
  }
}
