import pg from 'pg';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import { PostgresHistoryStore } from '../../pipeline/src/store/postgres/history.js';
import { migrate } from '../../pipeline/src/store/postgres/migrate.js';
import { createPgPool } from '../../pipeline/src/store/postgres/pool.js';
import { createRedisClient } from '../../pipeline/src/store/redis/connection.js';
import { detectDocMode, RedisLiveStateStore } from '../../pipeline/src/store/redis/live-state.js';
import type { FusedVesselState, HistoryStore, LiveStateStore } from '../../pipeline/src/store/types.js';
import { deleteKeys } from './redis.js';

export interface OpenedStores {
  live: LiveStateStore;
  history: HistoryStore;
  /** what the figures were measured against */
  description: string;
  /** history rows stored under this run's names */
  historyRowCount(): Promise<number>;
  /** rows of the `vessels` table with a fix, under this run's names */
  vesselCount(): Promise<number>;
  /** vessels in the Redis live indexes */
  liveCount(partitions: number): Promise<number>;
  readAll(mmsis: number[], partitions: number): Promise<Map<number, FusedVesselState>>;
  softDelete(cutoffMs: number): Promise<number>;
  cleanup(): Promise<void>;
}

export const POSTGRES_DIRECT = 'postgres://postgres@127.0.0.1:5432/postgres';
export const POSTGRES_PGBOUNCER = 'postgres://postgres@127.0.0.1:6433/postgres';
export const REDIS_CLUSTER_NODES = ['127.0.0.1:7101', '127.0.0.1:7102', '127.0.0.1:7103', '127.0.0.1:7104', '127.0.0.1:7105', '127.0.0.1:7106'];

/**
 * The real stores fusion writes to, under unique names: Redis keys under `keyPrefix`
 * (standalone 6379, a private server, or the project's 6-node cluster), Postgres history in its
 * own schema (migrated directly, written through PgBouncer or `postgresUrl`).
 */
export async function openFusionStores(options: { keyPrefix: string; schemaTag: string; redisMode?: 'standalone' | 'cluster'; redisUrl?: string; postgresUrl?: string }): Promise<OpenedStores> {
  const schema = `f_${options.schemaTag}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  // node-pg-migrate's lock is one advisory lock for the whole database: parallel test files wait their turn
  for (let attempt = 0; ; attempt++) {
    try {
      await migrate({ url: POSTGRES_DIRECT, schema });
      break;
    } catch (err) {
      if (attempt >= 40) throw err;
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
    }
  }
  const pool = createPgPool({ url: options.postgresUrl ?? POSTGRES_PGBOUNCER, max: 4, connectTimeoutMs: 2_000, queryTimeoutMs: 10_000 });
  // a checked-out client whose server goes away emits 'error' (the pool only covers idle ones);
  // the failing query reports it to the store, which classifies it
  pool.on('connect', (client) => client.on('error', () => {}));
  const history = new PostgresHistoryStore({ pool, schema });

  const mode = options.redisMode ?? 'standalone';
  const client = createRedisClient({ mode, url: options.redisUrl ?? 'redis://127.0.0.1:6379', clusterNodes: REDIS_CLUSTER_NODES, password: null, commandTimeoutMs: 2_000 });
  client.on('error', () => {});
  const doc = await detectDocMode(client);
  const live = new RedisLiveStateStore({ client, keyPrefix: options.keyPrefix, mode: doc });

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
    live,
    history,
    description: `Redis ${mode} (${doc} documents) + Postgres via ${options.postgresUrl ? 'a private PgBouncer' : 'PgBouncer :6433'} (schema ${schema})`,
    historyRowCount: async () => Number((await direct<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".positions`))[0]!.n),
    vesselCount: async () => Number((await direct<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".vessels WHERE fix_ts IS NOT NULL`))[0]!.n),
    liveCount: (partitions) => live.countLive(partitions),
    readAll: (mmsis, partitions) => live.readStates(mmsis.map((mmsi) => ({ mmsi, partition: partitionOf(mmsi, partitions) }))),
    softDelete: (cutoffMs) => history.softDelete(cutoffMs),
    cleanup: async () => {
      await pool.end().catch(() => undefined);
      await direct(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      const cleaner = createRedisClient({ mode, url: options.redisUrl ?? 'redis://127.0.0.1:6379', clusterNodes: REDIS_CLUSTER_NODES, password: null });
      cleaner.on('error', () => {});
      await deleteKeys(cleaner as Parameters<typeof deleteKeys>[0], options.keyPrefix).catch(() => undefined);
      cleaner.disconnect();
      client.disconnect();
    },
  };
}
