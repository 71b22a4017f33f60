import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../../pipeline/src/shared/partition.js';
import { RetryableStoreError, UnrecoverableStoreError } from '../../../pipeline/src/store/errors.js';
import { StoreVesselQueries } from '../../../pipeline/src/store/queries-impl.js';
import type { RedisClient } from '../../../pipeline/src/store/redis/connection.js';
import { createRedisClient } from '../../../pipeline/src/store/redis/connection.js';
import { detectDocMode, RedisLiveStateStore } from '../../../pipeline/src/store/redis/live-state.js';
import type { FusedVesselState, SourceTrustView } from '../../../pipeline/src/store/types.js';
import { deleteKeys, uniqueKeyPrefix } from '../../harness/redis.js';

const P = 8;

export function state(mmsi: number, ts: number, lat: number | null, lon: number | null, extra: Partial<FusedVesselState> = {}): FusedVesselState {
  return {
    mmsi,
    partition: partitionOf(mmsi, P),
    ts,
    lat,
    lon,
    speed: 10,
    course: 90,
    heading: 91,
    status: 0,
    msgType: 1,
    source: 'rx1',
    sources: ['rx1'],
    static: null,
    ...extra,
  };
}

/**
 * The live-state store and the Redis half of VesselQueries, run unchanged against a standalone
 * server and a Redis Cluster (the same code must work on both).
 */
export function defineLiveStateSuite(label: string, makeClient: () => RedisClient): void {
  describe(`Redis live state (${label})`, () => {
    const prefix = uniqueKeyPrefix(`live-${label}`);
    let client: RedisClient;
    let store: RedisLiveStateStore;
    let queries: StoreVesselQueries;
    let pool: pg.Pool;

    beforeAll(async () => {
      client = makeClient();
      const mode = await detectDocMode(client);
      store = new RedisLiveStateStore({ client, keyPrefix: prefix, mode });
      // The Redis-side queries never touch Postgres; the pool is only there to satisfy the type.
      pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:6433/postgres', max: 1 });
      queries = new StoreVesselQueries({ live: store, pool, schema: 'unused', partitions: P });
    });

    afterAll(async () => {
      await deleteKeys(client, prefix);
      await store.close();
      await pool.end();
    });

    it('reports the document mode the server supports', async () => {
      const modules = (await client.call('COMMAND', 'INFO', 'JSON.SET')) as unknown[];
      expect(store.mode).toBe(modules[0] == null ? 'hash' : 'json');
    });

    it('writes a newer state and rejects an older or equal one (compare-and-set)', async () => {
      const t = 1_700_000_000_000;
      expect(await store.writeStates([state(201_000_001, t, 10, 20)])).toEqual({ written: 1, stale: 0 });
      expect(await store.writeStates([state(201_000_001, t - 1_000, 11, 21)])).toEqual({ written: 0, stale: 1 });
      expect(await store.writeStates([state(201_000_001, t, 12, 22)])).toEqual({ written: 0, stale: 1 });
      let read = await store.readStates([{ mmsi: 201_000_001, partition: partitionOf(201_000_001, P) }]);
      expect(read.get(201_000_001)).toMatchObject({ ts: t, lat: 10, lon: 20 });
      expect(await store.writeStates([state(201_000_001, t + 1, 13, 23)])).toEqual({ written: 1, stale: 0 });
      read = await store.readStates([{ mmsi: 201_000_001, partition: partitionOf(201_000_001, P) }]);
      expect(read.get(201_000_001)).toMatchObject({ ts: t + 1, lat: 13, lon: 23 });
    });

    it('writes only the newest state of a vessel within one batch, whatever the order', async () => {
      const t = 1_700_000_100_000;
      const result = await store.writeStates([state(201_000_002, t + 2, 3, 3), state(201_000_002, t + 5, 5, 5), state(201_000_002, t + 1, 1, 1)]);
      expect(result).toEqual({ written: 1, stale: 2 });
      const read = await store.readStates([{ mmsi: 201_000_002, partition: partitionOf(201_000_002, P) }]);
      expect(read.get(201_000_002)?.ts).toBe(t + 5);
    });

    it('round-trips the whole document, including static data and a missing position', async () => {
      const s = state(201_000_003, 1_700_000_200_000, null, null, {
        static: { shipName: 'NORDIC "ICE"', callsign: 'OZ1\\', imo: 9_123_456, shipType: 70, updatedAt: 1_700_000_100_000, eta: { month: 5, day: null, hour: 1, minute: 2 } },
        sources: ['rx1', 'rx2'],
      });
      await store.writeStates([s]);
      const read = await store.readStates([{ mmsi: s.mmsi, partition: s.partition }, { mmsi: 999_999_999, partition: 0 }]);
      expect(read.get(s.mmsi)).toEqual(s);
      expect(read.has(999_999_999)).toBe(false);
      const view = await queries.getVessel(s.mmsi);
      expect(view).toMatchObject({ mmsi: s.mmsi, position: null, sources: ['rx1', 'rx2'], static: { shipName: 'NORDIC "ICE"', imo: 9_123_456, destination: null } });
      expect(await queries.getVessel(999_999_998)).toBeNull();
    });

    it('merges newer static data on an equal (or older) ts without moving the position; a redelivery changes nothing', async () => {
      const mmsi = 201_000_004;
      const p = partitionOf(mmsi, P);
      const t = 1_700_000_250_000;
      const read = async () => (await store.readStates([{ mmsi, partition: p }])).get(mmsi);
      await store.writeStates([state(mmsi, t, 10, 20)]);
      // type 5 after the fix: same position ts, static data new
      const named = state(mmsi, t, 10, 20, { static: { shipName: 'FIRST', updatedAt: t + 500 } });
      expect(await store.writeStates([named])).toEqual({ written: 1, stale: 0 });
      expect(await read()).toMatchObject({ ts: t, lat: 10, lon: 20, static: { shipName: 'FIRST', updatedAt: t + 500 } });
      expect(await store.writeStates([named])).toEqual({ written: 0, stale: 1 });
      // an older report that only fills a gap (fusion keeps updatedAt) still gets in
      const filled = state(mmsi, t, 10, 20, { static: { shipName: 'FIRST', callsign: 'OZ2', updatedAt: t + 500 } });
      expect(await store.writeStates([filled])).toEqual({ written: 1, stale: 0 });
      // a state whose position is older than the stored one brings newer static data: static in, position stays
      expect(await store.writeStates([state(mmsi, t - 9_000, 1, 1, { static: { shipName: 'SECOND', callsign: 'OZ2', updatedAt: t + 900 } })])).toEqual({ written: 1, stale: 0 });
      // older static data never replaces newer
      expect(await store.writeStates([state(mmsi, t + 1, 11, 21, { static: { shipName: 'STALE', callsign: 'OZ2', imo: 1, updatedAt: t } })])).toEqual({ written: 1, stale: 0 });
      expect(await read()).toMatchObject({ ts: t + 1, lat: 11, lon: 21, static: { shipName: 'SECOND', callsign: 'OZ2', updatedAt: t + 900 } });
      // the position moved with the newer fix: the geo index follows
      expect((await queries.vesselsNear({ lon: 21, lat: 11 }, 100, 10, null)).items.map((v) => v.mmsi)).toContain(mmsi);
    });

    it('sends unchanged static data as its version only, and again in full when the server lost it', async () => {
      const mmsi = 201_000_005;
      const p = partitionOf(mmsi, P);
      const t = 1_700_000_260_000;
      const st = { shipName: 'KEEP ME', destination: 'AARHUS', updatedAt: t - 60_000 };
      await store.writeStates([state(mmsi, t, 10, 20, { static: st })]);
      // the same static object again: only its version travels, and the document keeps it
      expect(await store.writeStates([state(mmsi, t + 1, 10.1, 20, { static: st })])).toEqual({ written: 1, stale: 0 });
      expect((await store.readStates([{ mmsi, partition: p }])).get(mmsi)?.static).toEqual(st);
      // the server lost the document (restarted empty, flushed): the next write must bring it back whole
      await client.del(store.keys.vessel(p, mmsi));
      expect(await store.writeStates([state(mmsi, t + 2, 10.2, 20, { static: st })])).toEqual({ written: 1, stale: 0 });
      expect((await store.readStates([{ mmsi, partition: p }])).get(mmsi)).toMatchObject({ ts: t + 2, lat: 10.2, static: st });
      // a static object read back counts as stored too
      const back = (await store.readStates([{ mmsi, partition: p }])).get(mmsi)!;
      expect(await store.writeStates([{ ...back, ts: t + 3 }])).toEqual({ written: 1, stale: 0 });
      expect((await store.readStates([{ mmsi, partition: p }])).get(mmsi)).toMatchObject({ ts: t + 3, static: st });
    });

    it('reads and updates documents written in the earlier whole-state layout', async () => {
      const mmsi = 201_000_006;
      const p = partitionOf(mmsi, P);
      const t = 1_700_000_270_000;
      const old = state(mmsi, t, 5, 6, { static: { shipName: 'LEGACY', updatedAt: t - 1 } });
      const key = store.keys.vessel(p, mmsi);
      if (store.mode === 'json') await client.call('JSON.SET', key, '$', JSON.stringify(old));
      else await client.hset(key, 'ts', String(t), 'doc', JSON.stringify(old));
      expect((await store.readStates([{ mmsi, partition: p }])).get(mmsi)).toEqual(old);
      expect(await store.writeStates([state(mmsi, t, 5, 6)])).toEqual({ written: 0, stale: 1 });
      await store.writeStates([state(mmsi, t + 1, 7, 8, { static: { shipName: 'NEW', updatedAt: t + 1 } })]);
      expect((await store.readStates([{ mmsi, partition: p }])).get(mmsi)).toMatchObject({ ts: t + 1, lat: 7, lon: 8, static: { shipName: 'NEW' } });
    });

    it('finds vessels by box and radius across partitions, in mmsi order, page by page', async () => {
      const t = 1_700_000_300_000;
      // A grid of 30 vessels around (10E, 55N), spread over all partitions, plus two far away.
      const grid = Array.from({ length: 30 }, (_, i) => state(230_000_000 + i * 7, t, 55 + (i % 5) * 0.01, 10 + Math.floor(i / 5) * 0.01));
      await store.writeStates([...grid, state(230_999_001, t, -33, 151), state(230_999_002, t, 55.5, 10)]);
      expect(new Set(grid.map((g) => g.partition)).size).toBeGreaterThan(3);

      const box = { minLon: 9.995, minLat: 54.995, maxLon: 10.055, maxLat: 55.045 };
      const seen: number[] = [];
      let cursor: string | null = null;
      for (let pageNo = 0; pageNo < 10; pageNo++) {
        const page = await queries.vesselsInBox(box, 7, cursor);
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((v) => v.mmsi));
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      expect(seen).toEqual(grid.map((g) => g.mmsi).sort((a, b) => a - b));

      // The box edge is exact: a box that stops between grid columns leaves the next column out.
      const narrow = await queries.vesselsInBox({ minLon: 9.995, minLat: 54.995, maxLon: 10.005, maxLat: 55.045 }, 100, null);
      expect(narrow.items.map((v) => v.mmsi).sort((a, b) => a - b)).toEqual(grid.slice(0, 5).map((g) => g.mmsi));

      // The whole world in one box (wider than Redis's Web Mercator world) finds far-apart vessels too.
      const world = await queries.vesselsInBox({ minLon: -180, minLat: -85, maxLon: 180, maxLat: 85 }, 10_000, null);
      expect(world.items.map((v) => v.mmsi)).toEqual(expect.arrayContaining([230_999_001, 230_999_002, grid[0]!.mmsi]));

      const near = await queries.vesselsNear({ lon: 10, lat: 55 }, 1_000, 100, null);
      // within 1 km of the corner: the corner and its east neighbour (0.01 deg of longitude at
      // 55N is 0.64 km; 0.01 deg of latitude is 1.11 km, outside)
      expect(near.items.map((v) => v.mmsi)).toEqual([grid[0]!.mmsi, grid[5]!.mmsi].sort((a, b) => a - b));
      expect(near.items[0]?.position).toMatchObject({ time: new Date(t).toISOString(), source: 'rx1' });
    });

    it('searches a box across the antimeridian as two boxes', async () => {
      const t = 1_700_000_400_000;
      await store.writeStates([state(240_000_001, t, -17, 179.9), state(240_000_002, t, -17.1, -179.9), state(240_000_003, t, -17, 170)]);
      const page = await queries.vesselsInBox({ minLon: 179.5, minLat: -18, maxLon: -179.5, maxLat: -16 }, 10, null);
      expect(page.items.map((v) => v.mmsi)).toEqual([240_000_001, 240_000_002]);
    });

    it('moves a vessel in the geo index and drops it from there when its new state has no position', async () => {
      const t = 1_700_000_500_000;
      await store.writeStates([state(250_000_001, t, 40, -70)]);
      expect((await queries.vesselsNear({ lon: -70, lat: 40 }, 100, 10, null)).items.map((v) => v.mmsi)).toContain(250_000_001);
      await store.writeStates([state(250_000_001, t + 1, 41, -71)]);
      expect((await queries.vesselsNear({ lon: -70, lat: 40 }, 100, 10, null)).items.map((v) => v.mmsi)).not.toContain(250_000_001);
      expect((await queries.vesselsNear({ lon: -71, lat: 41 }, 100, 10, null)).items.map((v) => v.mmsi)).toContain(250_000_001);
      // A polar fix (beyond Redis GEO's +-85.05) is stored but not indexed instead of failing the batch.
      await store.writeStates([state(250_000_001, t + 2, 89.5, 10)]);
      expect((await queries.vesselsNear({ lon: -71, lat: 41 }, 100, 10, null)).items).toEqual([]);
      expect((await store.readStates([{ mmsi: 250_000_001, partition: partitionOf(250_000_001, P) }])).get(250_000_001)?.lat).toBe(89.5);
    });

    it('rejects a cursor it did not issue as a bad request', async () => {
      await expect(queries.vesselsInBox({ minLon: 0, minLat: 0, maxLon: 1, maxLat: 1 }, 10, 'not-a-cursor')).rejects.toMatchObject({ code: 'AISFLOW_ERR_API_BAD_REQUEST' });
    });

    it('stores and lists source trust views', async () => {
      const view = (id: string, score: number): SourceTrustView => ({ id, score, state: score < 0.5 ? 'demoted' : 'trusted', demotions: score < 0.5 ? 1 : 0, accepted: 10, rejected: 2, lastSeen: 1_700_000_000_000, rate: 1.5 });
      await store.writeSources([view('zeta', 0.9), view('alpha', 0.2)]);
      await store.writeSources([view('alpha', 0.6)]);
      expect(await queries.sources()).toEqual([view('alpha', 0.6), view('zeta', 0.9)]);
    });

    it('counts live vessels, prunes silent ones from the indexes and revives them on a newer state', async () => {
      const before = await queries.countVessels();
      const t = 1_600_000_000_000; // older than every other test's states
      await store.writeStates([state(260_000_001, t, 1, 1), state(260_000_002, t + 10, 1.001, 1)]);
      expect(await queries.countVessels()).toBe(before + 2);
      expect(await store.pruneSilent(P, t + 5)).toBe(1);
      expect(await queries.countVessels()).toBe(before + 1);
      expect((await queries.vesselsNear({ lon: 1, lat: 1 }, 50, 10, null)).items.map((v) => v.mmsi)).toEqual([]);
      // the document stays (soft), and a newer report puts the vessel back
      expect(await queries.getVessel(260_000_001)).not.toBeNull();
      await store.writeStates([state(260_000_001, t + 20, 1, 1)]);
      expect(await queries.countVessels()).toBe(before + 2);
      expect((await queries.vesselsNear({ lon: 1, lat: 1 }, 50, 10, null)).items.map((v) => v.mmsi)).toEqual([260_000_001]);
    });

    it('re-sends the script after the server lost its script cache (NOSCRIPT)', async () => {
      const masters = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
      for (const node of masters) await node.call('SCRIPT', 'FLUSH');
      expect(await store.writeStates([state(270_000_001, 1_700_000_600_000, 2, 2)])).toEqual({ written: 1, stale: 0 });
    });

    it('classifies a data error as unrecoverable (the key holds another type)', async () => {
      const mmsi = 280_000_001;
      await client.set(store.keys.vessel(partitionOf(mmsi, P), mmsi), 'not a vessel');
      const err = await store.writeStates([state(mmsi, 1_700_000_700_000, 3, 3)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnrecoverableStoreError);
      expect((err as UnrecoverableStoreError).cause).toBeDefined();
    });
  });
}

describe('Redis error classification', () => {
  it('classifies an unreachable server as retryable', async () => {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    const client = createRedisClient({ mode: 'standalone', url: 'redis://127.0.0.1:1', clusterNodes: [], password: null, commandTimeoutMs: 1_000 });
    client.on('error', () => {});
    const store = new RedisLiveStateStore({ client, keyPrefix: uniqueKeyPrefix('closed'), mode: 'hash' });
    const err = await store.writeStates([state(290_000_001, 1, 1, 1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableStoreError);
    expect((err as RetryableStoreError).code).toBe('AISFLOW_ERR_STORE_RETRYABLE');
    client.disconnect();
  });
});
