import type { DlqAdmin, DlqEntry } from '../../../pipeline/src/dlq/types.js';
import type { BoundingBox, Page, TrackPoint, VesselQueries, VesselView } from '../../../pipeline/src/store/queries.js';
import type { SourceTrustView } from '../../../pipeline/src/store/types.js';

/**
 * Small in-memory implementations of the API's two interfaces, for route shape, validation and
 * auth cases. Plain objects with real behaviour (filtering, paging), not mocks of store clients;
 * the real stores are exercised by pipeline.int.test.ts.
 */
export function vessel(mmsi: number, lon: number, lat: number, time = '2026-11-28T20:00:00.000Z'): VesselView {
  return {
    mmsi,
    position: { lat, lon, speed: 10.5, course: 90, heading: null, status: 0, time, source: 'rx-a' },
    static: {
      shipName: `SHIP ${mmsi}`,
      callsign: null,
      imo: null,
      shipType: 70,
      toBow: 100,
      toStern: 20,
      toPort: 10,
      toStarboard: 10,
      draught: 7.5,
      destination: 'ROTTERDAM',
      eta: { month: 12, day: 1, hour: 8, minute: null },
    },
    sources: ['rx-a'],
    lastUpdate: time,
  };
}

function page(all: VesselView[], limit: number, cursor: string | null): Page<VesselView> {
  const start = cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString());
  const items = all.slice(start, start + limit);
  const next = start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
  return { items, nextCursor: next };
}

function haversineM(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const r = (d: number) => (d * Math.PI) / 180;
  const h = Math.sin(r(b.lat - a.lat) / 2) ** 2 + Math.cos(r(a.lat)) * Math.cos(r(b.lat)) * Math.sin(r(b.lon - a.lon) / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

export interface MemoryQueries extends VesselQueries {
  calls: string[];
  failWith: Error | null;
}

export function memoryQueries(vessels: VesselView[], tracks: Map<number, TrackPoint[]>, sources: SourceTrustView[]): MemoryQueries {
  const sorted = [...vessels].sort((a, b) => a.mmsi - b.mmsi);
  const q: MemoryQueries = {
    calls: [],
    failWith: null,
    async getVessel(mmsi) {
      q.calls.push(`getVessel ${mmsi}`);
      if (q.failWith) throw q.failWith;
      return sorted.find((v) => v.mmsi === mmsi) ?? null;
    },
    async vesselsInBox(box: BoundingBox, limit, cursor) {
      q.calls.push(`vesselsInBox ${limit}`);
      if (q.failWith) throw q.failWith;
      const inside = sorted.filter((v) => v.position && v.position.lon >= box.minLon && v.position.lon <= box.maxLon && v.position.lat >= box.minLat && v.position.lat <= box.maxLat);
      return page(inside, limit, cursor);
    },
    async vesselsNear(center, radiusM, limit, cursor) {
      q.calls.push(`vesselsNear ${radiusM}`);
      if (q.failWith) throw q.failWith;
      return page(sorted.filter((v) => v.position && haversineM(center, v.position) <= radiusM), limit, cursor);
    },
    async track(mmsi, fromMs, toMs, limit) {
      q.calls.push(`track ${mmsi} ${fromMs} ${toMs} ${limit}`);
      if (q.failWith) throw q.failWith;
      return (tracks.get(mmsi) ?? []).filter((p) => Date.parse(p.time) >= fromMs && Date.parse(p.time) <= toMs).slice(0, limit);
    },
    async sources() {
      if (q.failWith) throw q.failWith;
      return sources;
    },
    async countVessels() {
      if (q.failWith) throw q.failWith;
      return sorted.length;
    },
  };
  return q;
}

export function memoryDlq(entries: DlqEntry[]): DlqAdmin & { entries: DlqEntry[]; retried: number[] } {
  const d = {
    entries: [...entries],
    retried: [] as number[],
    async stats() {
      return {
        messages: d.entries.length,
        bytes: d.entries.length * 100,
        firstSeq: d.entries[0]?.seq ?? 0,
        lastSeq: d.entries.at(-1)?.seq ?? 0,
        byStage: { decode: d.entries.filter((e) => e.stage === 'decode').length, fusion: d.entries.filter((e) => e.stage === 'fusion').length },
      };
    },
    async peek(options: { limit: number; afterSeq?: number }) {
      return d.entries.filter((e) => e.seq > (options.afterSeq ?? 0)).slice(0, options.limit);
    },
    async retry(options: { seqs?: number[]; limit?: number }) {
      const chosen = options.seqs ? d.entries.filter((e) => options.seqs!.includes(e.seq)) : d.entries.slice(0, options.limit);
      d.retried.push(...chosen.map((e) => e.seq));
      d.entries = d.entries.filter((e) => !chosen.includes(e));
      return { retried: chosen.length, failed: (options.seqs?.length ?? chosen.length) - chosen.length };
    },
    async purge() {
      const purged = d.entries.length;
      d.entries = [];
      return { purged };
    },
  };
  return d;
}
