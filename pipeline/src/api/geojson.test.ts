import { describe, expect, it } from 'vitest';
import type { TrackPoint } from '../store/queries.js';
import { trackToGeoJson } from './geojson.js';

const point = (time: string, lon: number, lat: number): TrackPoint => ({ time, lon, lat, speed: 1, course: null, heading: null, sources: ['a'] });

describe('trackToGeoJson', () => {
  it('makes a LineString of [lon, lat] positions with a bbox', () => {
    const fc = trackToGeoJson(1, [point('t1', 4, 52), point('t2', 5, 51)], false);
    expect(fc).toEqual({
      type: 'FeatureCollection',
      bbox: [4, 51, 5, 52],
      features: [
        {
          type: 'Feature',
          geometry: { type: 'LineString', coordinates: [[4, 52], [5, 51]] },
          properties: { mmsi: 1, times: ['t1', 't2'], speeds: [1, 1], courses: [null, null], truncated: false },
        },
      ],
    });
  });

  it('makes a Point for one fix (a LineString needs two) and nothing for none', () => {
    expect(trackToGeoJson(1, [point('t1', 4, 52)], true).features[0]!.geometry).toEqual({ type: 'Point', coordinates: [4, 52] });
    expect(trackToGeoJson(1, [], false)).toEqual({ type: 'FeatureCollection', features: [] });
  });
});
