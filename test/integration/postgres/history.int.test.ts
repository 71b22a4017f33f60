import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableStoreError, UnrecoverableStoreError } from '../../../pipeline/src/store/errors.js';
import { historyKey } from '../../../pipeline/src/fusion/decide.js';
import { fnv1a64 } from '../../../pipeline/src/ingest/record.js';
import { PostgresHistoryStore } from '../../../pipeline/src/store/postgres/history.js';
import { migrate } from '../../../pipeline/src/store/postgres/migrate.js';
import { createPgPool } from '../../../pipeline/src/store/postgres/pool.js';
import { StoreVesselQueries } from '../../../pipeline/src/store/queries-impl.js';
import { RedisLiveStateStore } from '../../../pipeline/src/store/redis/live-state.js';
import { createRedisClient } from '../../../pipeline/src/store/redis/connection.js';
import type { HistoryRow, VesselUpsert } from '../../../pipeline/src/store/types.js';
import { POSTGRES_BOUNCER_URL, POSTGRES_DIRECT_URL, dropSchema, uniqueSchema } from '../../harness/postgres.js';
import { REDIS_URL, uniqueKeyPrefix } from '../../harness/redis.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

/** A history row of the radio report named `report` (its id is the name's 64-bit hash, as ingest's record key is the payload's). */
function row(report: string, mmsi: number, ts: number, sources: string[], extra: Partial<HistoryRow> = {}): HistoryRow {
  const id = fnv1a64(report);
  return { key: historyKey(mmsi, ts, id), report: id, mmsi, ts, lat: 55 + (ts % 1000) / 1e5, lon: 10, speed: 12.5, course: 180, heading: null, status: 0, msgType: 1, sources, ...extra };
}

/** The stored `report` column (a signed bigint, as node-postgres returns it: text) of the report named `report`. */
function reportColumn(report: string): string {
  return BigInt.asIntN(64, BigInt(`0x${fnv1a64(report)}`)).toString();
}

function vessel(mmsi: number, ts: number, extra: Partial<VesselUpsert> = {}): VesselUpsert {
  return { mmsi, lastSeen: ts, fix: { ts, lat: 55, lon: 10, speed: 1, course: 2, heading: 3 }, static: null, sources: ['rx1'], ...extra };
}

describe('Postgres history through PgBouncer (transaction pooling)', () => {
  const schema = uniqueSchema('history');
  let store: PostgresHistoryStore;
  let direct: pg.Client;

  beforeAll(async () => {
    expect(await migrate({ url: POSTGRES_DIRECT_URL, schema })).toEqual(['1764360000000_history-and-vessels', '1764370000000_vessels-hot-updates', '1764380000000_positions-key-by-vessel']);
    store = new PostgresHistoryStore({ pool: createPgPool({ url: POSTGRES_BOUNCER_URL, max: 4 }), schema });
    direct = new pg.Client({ connectionString: POSTGRES_DIRECT_URL });
    await direct.connect();
  });

  afterAll(async () => {
    await store?.close();
    await direct?.end();
    await dropSchema(schema);
  });

  const count = async (sql: string, params: unknown[] = []) => Number((await direct.query<{ n: string }>(sql, params)).rows[0]?.n);

  it('applies migrations once (a second run has nothing to do)', async () => {
    expect(await migrate({ url: POSTGRES_DIRECT_URL, schema })).toEqual([]);
  });

  it('keeps every report id through the primary-key migration, down and up again', async () => {
    const other = uniqueSchema('history_migration');
    try {
      await migrate({ url: POSTGRES_DIRECT_URL, schema: other });
      const migrated = new PostgresHistoryStore({ pool: createPgPool({ url: POSTGRES_BOUNCER_URL, max: 1 }), schema: other });
      await migrated.writeBatch({ history: [row('r1', 201, T0 + 1_500, ['rx1']), row('r2', 202, T0, ['rx1'])], vessels: [] });
      await migrated.close();
      // down: the text key comes back as fusion wrote it before (mmsi, report second, id)
      expect(await migrate({ url: POSTGRES_DIRECT_URL, schema: other, direction: 'down' })).toEqual(['1764380000000_positions-key-by-vessel']);
      const keys = await direct.query<{ key: string }>(`SELECT key FROM "${other}".positions ORDER BY mmsi`);
      expect(keys.rows.map((r) => r.key)).toEqual([row('r1', 201, T0 + 1_500, []).key, row('r2', 202, T0, []).key]);
      // up: the id is recovered from the key
      await migrate({ url: POSTGRES_DIRECT_URL, schema: other });
      const ids = await direct.query<{ report: string }>(`SELECT report FROM "${other}".positions ORDER BY mmsi`);
      expect(ids.rows.map((r) => r.report)).toEqual([reportColumn('r1'), reportColumn('r2')]);
    } finally {
      await dropSchema(other);
    }
  });

  it('inserts a batch once: the same batch again adds no rows', async () => {
    const batch = { history: [row('a1', 111, T0, ['rx1']), row('a2', 111, T0 + 10_000, ['rx1']), row('a3', 112, T0, ['rx2'])], vessels: [vessel(111, T0 + 10_000), vessel(112, T0)] };
    expect(await store.writeBatch(batch)).toEqual({ historyInserted: 3, vesselsUpserted: 2, vesselsRejected: 0 });
    expect((await store.writeBatch(batch)).historyInserted).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".positions WHERE mmsi IN (111, 112)`)).toBe(3);
  });

  it('credits every receiver of the same report in one row (same batch and later batches)', async () => {
    await store.writeBatch({ history: [row('b1', 121, T0, ['rx2']), row('b1', 121, T0, ['rx1'])], vessels: [] });
    expect((await store.writeBatch({ history: [row('b1', 121, T0, ['rx3', 'rx1'])], vessels: [] })).historyInserted).toBe(0);
    const { rows } = await direct.query(`SELECT sources FROM "${schema}".positions WHERE report = $1`, [reportColumn('b1')]);
    expect(rows).toEqual([{ sources: ['rx1', 'rx2', 'rx3'] }]);
  });

  it('escapes untrusted source ids and keeps nulls through COPY', async () => {
    const odd = 'tab\there "quoted" back\\slash\nnewline {brace},comma';
    await store.writeBatch({ history: [row('c1', 131, T0, [odd], { speed: null, status: null })], vessels: [] });
    const { rows } = await direct.query(`SELECT sources, speed, status, heading FROM "${schema}".positions WHERE report = $1`, [reportColumn('c1')]);
    expect(rows).toEqual([{ sources: [odd], speed: null, status: null, heading: null }]);
  });

  it('moves the vessel fix only forward and merges static data field by field', async () => {
    const mmsi = 141;
    await store.writeBatch({ history: [], vessels: [vessel(mmsi, T0 + 5_000, { static: { ts: T0, fields: { shipName: 'OLD NAME', callsign: 'ABC', imo: null } } })] });
    // An older fix does not move it back; a newer static message overrides the name, not the callsign.
    await store.writeBatch({
      history: [],
      vessels: [vessel(mmsi, T0 + 1_000, { fix: { ts: T0 + 1_000, lat: 1, lon: 1, speed: null, course: null, heading: null }, static: { ts: T0 + 2_000, fields: { shipName: 'NEW NAME', callsign: null, destination: 'AARHUS' } }, sources: ['rx9'] })],
    });
    // An older static message only fills gaps.
    await store.writeBatch({ history: [], vessels: [{ mmsi, lastSeen: T0, fix: null, static: { ts: T0 - 9_000, fields: { shipName: 'ANCIENT', shipType: 70 } }, sources: [] }] });
    const { rows } = await direct.query(`SELECT extract(epoch FROM fix_ts) * 1000 AS fix_ms, lat, static, sources, extract(epoch FROM last_seen) * 1000 AS seen_ms FROM "${schema}".vessels WHERE mmsi = $1`, [mmsi]);
    expect(Number(rows[0].fix_ms)).toBe(T0 + 5_000);
    expect(rows[0].lat).toBe(55);
    expect(rows[0].static).toEqual({ shipName: 'NEW NAME', callsign: 'ABC', destination: 'AARHUS', shipType: 70 });
    expect(rows[0].sources).toEqual(['rx1', 'rx9']);
    expect(Number(rows[0].seen_ms)).toBe(T0 + 5_000);
  });

  it('merges several upserts of one vessel in a batch (a statement cannot touch a row twice)', async () => {
    const r = await store.writeBatch({ history: [], vessels: [vessel(151, T0 + 3), vessel(150, T0), vessel(151, T0 + 9), vessel(151, T0 + 1)] });
    expect(r.vesselsUpserted).toBe(2);
    const { rows } = await direct.query(`SELECT extract(epoch FROM fix_ts) * 1000 AS fix_ms FROM "${schema}".vessels WHERE mmsi = 151`);
    expect(Number(rows[0].fix_ms)).toBe(T0 + 9);
  });

  it('keeps vessels of MMSI 0 and ten-digit MMSIs out of the vessels table, counted, and keeps their history', async () => {
    const before = store.rejected.invalidMmsi;
    const r = await store.writeBatch({
      history: [row('m0', 0, T0, ['rx1']), row('m10', 1_073_741_000, T0, ['rx1']), row('m1', 155, T0, ['rx1'])],
      vessels: [vessel(0, T0), vessel(155, T0), vessel(1_073_741_000, T0)],
    });
    expect(r).toEqual({ historyInserted: 3, vesselsUpserted: 1, vesselsRejected: 2 });
    expect(store.rejected.invalidMmsi - before).toBe(2);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".vessels WHERE mmsi IN (0, 1073741000, 155)`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".positions WHERE report = ANY($1::bigint[])`, [['m0', 'm10', 'm1'].map(reportColumn)])).toBe(3);
    // a batch of nothing but invalid vessels writes nothing and still says why
    expect(await store.writeBatch({ history: [], vessels: [vessel(0, T0 + 1)] })).toEqual({ historyInserted: 0, vesselsUpserted: 0, vesselsRejected: 1 });
  });

  it('credits only the reports that lack a source, in a batch mixing new, redelivered and re-heard reports', async () => {
    await store.writeBatch({ history: [row('g1', 156, T0, ['rx1']), row('g2', 156, T0 + 1_000, ['rx1', 'rx2'])], vessels: [] });
    const r = await store.writeBatch({ history: [row('g1', 156, T0, ['rx3']), row('g2', 156, T0 + 1_000, ['rx2']), row('g3', 156, T0 + 2_000, ['rx2', 'rx1'])], vessels: [] });
    expect(r.historyInserted).toBe(1);
    const { rows } = await direct.query(`SELECT report, sources FROM "${schema}".positions WHERE mmsi = 156 ORDER BY ts`);
    expect(rows).toEqual([
      { report: reportColumn('g1'), sources: ['rx1', 'rx3'] },
      { report: reportColumn('g2'), sources: ['rx1', 'rx2'] },
      { report: reportColumn('g3'), sources: ['rx1', 'rx2'] },
    ]);
  });

  it('soft-deletes silent vessels and revives one with its next newer report', async () => {
    await store.writeBatch({ history: [], vessels: [vessel(161, T0 - 10 * DAY), vessel(162, T0)] });
    const marked = await store.softDelete(T0 - DAY);
    expect(marked).toBeGreaterThanOrEqual(1);
    const deleted = async (mmsi: number) => (await direct.query(`SELECT deleted_at FROM "${schema}".vessels WHERE mmsi = $1`, [mmsi])).rows[0].deleted_at as Date | null;
    expect(await deleted(161)).not.toBeNull();
    expect(await deleted(162)).toBeNull();
    // A redelivered old report does not revive it; a newer one does.
    await store.writeBatch({ history: [], vessels: [vessel(161, T0 - 10 * DAY)] });
    expect(await deleted(161)).not.toBeNull();
    await store.writeBatch({ history: [], vessels: [vessel(161, T0)] });
    expect(await deleted(161)).toBeNull();
  });

  it('creates day partitions on demand for replayed old dates and keeps them through retention', async () => {
    const old = Date.UTC(2013, 4, 2, 8, 30);
    await store.writeBatch({ history: [row('d1', 171, old, ['rx1']), row('d2', 171, old + 2 * DAY, ['rx1'])], vessels: [] });
    const days = async () => (await direct.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM "${schema}".position_partitions ORDER BY day`)).rows.map((r) => r.day);
    expect(await days()).toEqual(expect.arrayContaining(['2013-05-02', '2013-05-04']));
    expect(await days()).not.toContain('2013-05-03');

    const now = Date.now();
    const result = await store.maintain({ nowMs: now, retentionDays: 30 });
    const today = new Date(now).toISOString().slice(0, 10);
    expect(await days()).toEqual(expect.arrayContaining([today, new Date(now + 3 * DAY).toISOString().slice(0, 10), new Date(now - DAY).toISOString().slice(0, 10)]));
    // Replayed days were created just now: retention counts from their creation.
    expect(result.dropped).toEqual([]);
    expect(await days()).toContain('2013-05-02');

    // A year later every partition created today is past retention.
    const later = await store.maintain({ nowMs: now + 400 * DAY, retentionDays: 30 });
    expect(later.dropped).toEqual(expect.arrayContaining(['2013-05-02', '2013-05-04', today]));
    expect(await count(`SELECT count(*) AS n FROM "${schema}".positions WHERE report = ANY($1::bigint[])`, [['d1', 'd2'].map(reportColumn)])).toBe(0);
    // A late batch for a dropped day re-creates its partition instead of failing.
    await store.writeBatch({ history: [row('d3', 171, old, ['rx1'])], vessels: [] });
    expect(await count(`SELECT count(*) AS n FROM "${schema}".positions WHERE report = $1`, [reportColumn('d3')])).toBe(1);
  });

  it('reads a bounded track, oldest first, through the queries', async () => {
    const mmsi = 181;
    await store.writeBatch({ history: Array.from({ length: 20 }, (_, i) => row(`t${i}`, mmsi, T0 + i * 60_000, ['rx1'])), vessels: [] });
    const client = createRedisClient({ mode: 'standalone', url: REDIS_URL, clusterNodes: [], password: null });
    const live = new RedisLiveStateStore({ client, keyPrefix: uniqueKeyPrefix('track'), mode: 'hash' });
    const pool = createPgPool({ url: POSTGRES_BOUNCER_URL, max: 1 });
    const queries = new StoreVesselQueries({ live, pool, schema, partitions: 4 });
    try {
      const track = await queries.track(mmsi, T0 + 5 * 60_000, T0 + 15 * 60_000, 4);
      expect(track.map((p) => p.time)).toEqual([5, 6, 7, 8].map((i) => new Date(T0 + i * 60_000).toISOString()));
      expect(track[0]).toMatchObject({ lon: 10, speed: 12.5, course: 180, heading: null, sources: ['rx1'] });
      expect(await queries.track(mmsi, T0 + 100 * 60_000, T0 + 200 * 60_000, 10)).toEqual([]);
    } finally {
      await live.close();
      await pool.end();
    }
  });

  it('classifies a value Postgres rejects as unrecoverable and keeps the batch out', async () => {
    const err = await store.writeBatch({ history: [row('e1', 191, T0, ['rx1'], { status: 40_000 })], vessels: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableStoreError);
    expect((err as Error).message).toMatch(/SQLSTATE 22003/);
    const nan = await store.writeBatch({ history: [row('e2', 191, T0, ['rx1'], { lat: Number.NaN })], vessels: [] }).catch((e: unknown) => e);
    expect(nan).toBeInstanceOf(UnrecoverableStoreError);
    const far = await store.writeBatch({ history: [row('e3', 191, 9e15, ['rx1'])], vessels: [] }).catch((e: unknown) => e);
    expect(far).toBeInstanceOf(UnrecoverableStoreError);
    const badId = await store.writeBatch({ history: [row('e4', 191, T0, ['rx1'], { report: "1'); DROP TABLE x; --" })], vessels: [] }).catch((e: unknown) => e);
    expect(badId).toBeInstanceOf(UnrecoverableStoreError);
    expect((badId as Error).message).toMatch(/report id that is not 16 hex digits/);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".positions WHERE mmsi = 191`)).toBe(0);
  });

  it('writes a batch all or nothing: a vessel row Postgres rejects keeps the batch\'s history out too', async () => {
    // a heading beyond the range of `real`: only the vessels part of the statement fails
    const bad = vessel(193, T0, { fix: { ts: T0, lat: 55, lon: 10, speed: 1, course: 2, heading: 1e39 } });
    const err = await store.writeBatch({ history: [row('g1', 193, T0, ['rx1'])], vessels: [bad] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableStoreError);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".positions WHERE mmsi = 193`)).toBe(0);
    // the same batch with a valid vessel row goes in whole
    const ok = await store.writeBatch({ history: [row('g1', 193, T0, ['rx1'])], vessels: [vessel(193, T0)] });
    expect(ok).toMatchObject({ historyInserted: 1, vesselsUpserted: 1 });
  });

  it('classifies an unreachable server and a missing schema as retryable', async () => {
    const closed = new PostgresHistoryStore({ pool: createPgPool({ url: 'postgres://postgres@127.0.0.1:1/postgres', connectTimeoutMs: 1_000 }), schema });
    const err = await closed.writeBatch({ history: [row('f1', 1, T0, ['rx1'])], vessels: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableStoreError);
    expect((err as RetryableStoreError).cause).toBeDefined();
    await closed.close();

    const unmigrated = new PostgresHistoryStore({ pool: createPgPool({ url: POSTGRES_BOUNCER_URL, max: 1 }), schema: uniqueSchema('missing') });
    expect(await unmigrated.writeBatch({ history: [], vessels: [vessel(1, T0)] }).catch((e: unknown) => e)).toBeInstanceOf(RetryableStoreError);
    await unmigrated.close();
  });
});
