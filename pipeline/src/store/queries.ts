import type { SourceTrustView } from './types.js';

/**
 * What the API reads. Implemented over Redis (live state, geo) and Postgres (history, vessels)
 * by the store module; the API depends only on this interface, so its tests can also run it
 * against the real stores filled by the real pipeline.
 */
export interface VesselView {
  mmsi: number;
  position: {
    lat: number;
    lon: number;
    speed: number | null;
    course: number | null;
    heading: number | null;
    status: number | null;
    /** ISO 8601 time of the report */
    time: string;
    source: string;
  } | null;
  static: {
    shipName: string | null;
    callsign: string | null;
    imo: number | null;
    shipType: number | null;
    toBow: number | null;
    toStern: number | null;
    toPort: number | null;
    toStarboard: number | null;
    draught: number | null;
    destination: string | null;
    eta: { month: number | null; day: number | null; hour: number | null; minute: number | null } | null;
  } | null;
  sources: string[];
  /** ISO 8601 */
  lastUpdate: string;
}

export interface TrackPoint {
  /** ISO 8601 */
  time: string;
  lat: number;
  lon: number;
  speed: number | null;
  course: number | null;
  heading: number | null;
  sources: string[];
}

export interface BoundingBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

export interface Page<T> {
  items: T[];
  /** opaque; null on the last page */
  nextCursor: string | null;
}

export interface VesselQueries {
  getVessel(mmsi: number): Promise<VesselView | null>;
  vesselsInBox(box: BoundingBox, limit: number, cursor: string | null): Promise<Page<VesselView>>;
  vesselsNear(center: { lon: number; lat: number }, radiusM: number, limit: number, cursor: string | null): Promise<Page<VesselView>>;
  /** history in [fromMs, toMs], oldest first, at most `limit` points */
  track(mmsi: number, fromMs: number, toMs: number, limit: number): Promise<TrackPoint[]>;
  sources(): Promise<SourceTrustView[]>;
  /** number of live vessels (for /metrics/summary and the demo's progress line) */
  countVessels(): Promise<number>;
}
