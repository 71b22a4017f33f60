import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnv1a64 } from '../../../pipeline/src/ingest/record.js';
import { PostgresHistoryStore } from '../../../pipeline/src/store/postgres/history.js';
import { migrate } from '../../../pipeline/src/store/postgres/migrate.js';
import { createPgPool } from '../../../pipeline/src/store/postgres/pool.js';
import type { HistoryRow, VesselUpsert } from '../../../pipeline/src/store/types.js';
import { POSTGRES_DIRECT_URL, deadlockCount } from '../../harness/postgres.js';
import { pgBouncerUrl } from '../../harness/pgbouncer.js';

const WRITERS = 4;
const BATCHES_PER_WRITER = 300;
const VESSELS = 40; // few vessels, many writers: every batch overlaps others'
const PER_BATCH = 20;

/** Deterministic Fisher-Yates (a small LCG), so a failure replays the same orders. */
function shuffled<T>(items: T[], seed: number): T[] {
  let x = seed >>> 0 || 1;
  for (let i = items.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    const j = x % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Several writers, each with its own pool through PgBouncer, hammer overlapping vessels and the
 * same reports (heard by different receivers) with thousands of small batches. Postgres counts
 * every deadlock it breaks in pg_stat_database; the test owns its database, so nobody else's
 * work can move that counter.
 */
describe('concurrent writers do not deadlock', () => {
  const database = `aisflow_deadlock_${process.pid}_${Date.now() % 100_000}`;
  const schema = 'aisflow';
  const admin = new pg.Client({ connectionString: POSTGRES_DIRECT_URL });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await migrate({ url: POSTGRES_DIRECT_URL.replace(/\/postgres$/, `/${database}`), schema });
  });

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });

  it(`${WRITERS} writers x ${BATCHES_PER_WRITER} batches: zero deadlocks, exact row counts`, async () => {
    const before = await deadlockCount(database);
    const base = Date.UTC(2026, 0, 1);
    const writers = Array.from({ length: WRITERS }, (_, w) => {
      const store = new PostgresHistoryStore({ pool: createPgPool({ url: pgBouncerUrl(database), max: 1 }), schema });
      return (async () => {
        let inserted = 0;
        for (let b = 0; b < BATCHES_PER_WRITER; b++) {
          // Each batch: half of all vessels, in an order of this writer's own (the store must
          // sort), with the reports of tick b, which the other writers send too (as other
          // receivers): the writers race for the same vessel rows and the same history keys.
          const mmsis = shuffled(Array.from({ length: PER_BATCH }, (_, i) => ((b * 3 + i) % VESSELS) + 1_000), w * 100_003 + b);
          const history: HistoryRow[] = mmsis.map((mmsi) => ({ key: `k${mmsi}-${b}`, report: fnv1a64(`k${mmsi}-${b}`), mmsi, ts: base + b * 1_000, lat: 1, lon: 2, speed: null, course: null, heading: null, status: null, msgType: 1, sources: [`rx${w}`] }));
          const vessels: VesselUpsert[] = mmsis.map((mmsi) => ({ mmsi, lastSeen: base + b * 1_000, fix: { ts: base + b * 1_000, lat: 1, lon: 2, speed: null, course: null, heading: null }, static: null, sources: [`rx${w}`] }));
          inserted += (await store.writeBatch({ history, vessels })).historyInserted;
        }
        await store.close();
        return inserted;
      })();
    });
    const inserted = (await Promise.all(writers)).reduce((a, b) => a + b, 0);

    const check = new pg.Client({ connectionString: POSTGRES_DIRECT_URL.replace(/\/postgres$/, `/${database}`) });
    await check.connect();
    try {
      const rows = Number((await check.query<{ n: string }>(`SELECT count(*) AS n FROM aisflow.positions`)).rows[0]?.n);
      const distinct = Number((await check.query<{ n: string }>(`SELECT count(DISTINCT report) AS n FROM aisflow.positions`)).rows[0]?.n);
      // every (writer, batch) key set is generated independently; the distinct keys are the truth
      expect(rows).toBe(distinct);
      expect(inserted).toBe(rows);
      const credited = Number((await check.query<{ n: string }>(`SELECT count(*) AS n FROM aisflow.positions WHERE cardinality(sources) > 1`)).rows[0]?.n);
      expect(credited).toBeGreaterThan(0);
      const vessels = Number((await check.query<{ n: string }>(`SELECT count(*) AS n FROM aisflow.vessels`)).rows[0]?.n);
      expect(vessels).toBe(VESSELS);
    } finally {
      await check.end();
    }
    expect(await deadlockCount(database)).toBe(before);
  });
});
