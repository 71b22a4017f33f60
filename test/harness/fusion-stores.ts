import pg from 'pg';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import { PostgresHistoryStore } from '../../pipeline/src/store/postgres/history.js';
import { migrate } from '../../pipeline/src/store/postgres/migrate.js';
import { createPgPool } from '../../pipeline/src/store/postgres/pool.js';
import type { FusedVesselState, HistoryStore, LiveStateStore } from '../../pipeline/src/store/types.js';
import { memoryStores } from './fusion-memory-stores.js';

export interface OpenedStores {
  live: LiveStateStore;
  history: HistoryStore;
  /** what the figures were measured against */
  description: string;
  /** history rows stored under this run's names */
  historyRowCount(): Promise<number>;
  /** rows of the `vessels` table under this run's names */
  vesselCount(): Promise<number>;
  readAll(mmsis: number[], partitions: number): Promise<Map<number, FusedVesselState>>;
  cleanup(): Promise<void>;
}

export const POSTGRES_DIRECT = 'postgres://postgres@127.0.0.1:5432/postgres';
export const POSTGRES_PGBOUNCER = 'postgres://postgres@127.0.0.1:6433/postgres';

/**
 * The stores fusion writes to in the bench and the pipeline tests, under unique names: Postgres
 * history in its own schema (migrated directly, written through PgBouncer or `postgresUrl`).
 */
export async function openFusionStores(options: { keyPrefix: string; schemaTag: string; redisMode?: 'standalone' | 'cluster'; postgresUrl?: string }): Promise<OpenedStores> {
  const schema = `f_${options.schemaTag}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await migrate({ url: POSTGRES_DIRECT, schema });
  const pool = createPgPool({ url: options.postgresUrl ?? POSTGRES_PGBOUNCER, max: 4, connectTimeoutMs: 2_000, queryTimeoutMs: 10_000 });
  // a checked-out client whose server goes away emits 'error' (the pool only covers idle ones);
  // the failing query reports it to the store, which classifies it
  pool.on('connect', (client) => client.on('error', () => {}));
  const history = new PostgresHistoryStore({ pool, schema });
  const m = memoryStores();
  const direct = async <T>(sql: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: POSTGRES_DIRECT });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  };
  return {
    live: m.live,
    history,
    description: `Postgres history via ${options.postgresUrl ?? 'PgBouncer :6433'} (schema ${schema}); live state in process (Redis store not in this build yet)`,
    historyRowCount: async () => Number((await direct<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".positions`))[0]!.n),
    vesselCount: async () => Number((await direct<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".vessels WHERE fix_ts IS NOT NULL`))[0]!.n),
    readAll: (mmsis, partitions) => m.live.readStates(mmsis.map((mmsi) => ({ mmsi, partition: partitionOf(mmsi, partitions) }))),
    cleanup: async () => {
      await pool.end().catch(() => undefined);
      await direct(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}
