import type { TrackPoint } from '../store/queries.js';

/**
 * A track as an RFC 7946 FeatureCollection: positions are [lon, lat] (§3.1.1), a LineString needs
 * two or more positions (§3.1.4) so a single fix is a Point, and an empty track is an empty
 * collection. Times and speeds ride along as per-vertex property arrays, the common convention
 * for tracks (GeoJSON has no time dimension).
 */
export function trackToGeoJson(mmsi: number, points: readonly TrackPoint[], truncated: boolean) {
  if (points.length === 0) return { type: 'FeatureCollection' as const, features: [] };
  const coordinates = points.map((p) => [p.lon, p.lat]);
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (const p of points) {
    minLon = Math.min(minLon, p.lon);
    maxLon = Math.max(maxLon, p.lon);
    minLat = Math.min(minLat, p.lat);
    maxLat = Math.max(maxLat, p.lat);
  }
  const geometry =
    points.length === 1
      ? { type: 'Point' as const, coordinates: coordinates[0]! }
      : { type: 'LineString' as const, coordinates };
  return {
    type: 'FeatureCollection' as const,
    bbox: [minLon, minLat, maxLon, maxLat],
    features: [
      {
        type: 'Feature' as const,
        geometry,
        properties: {
          mmsi,
          times: points.map((p) => p.time),
          speeds: points.map((p) => p.speed),
          courses: points.map((p) => p.course),
          truncated,
        },
      },
    ],
  };
}
