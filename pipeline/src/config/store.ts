import { Type, type Static } from '@sinclair/typebox';
import { LogLevelEnv } from './common.js';

/**
 * Store settings shared by `aisflow fusion` and `aisflow api` (docs/configuration.md, "storage").
 * A fragment: each process's schema spreads `...StoreEnvProperties` into its own Type.Object, and
 * passes the loaded values through `storeSettingsFrom()` to the store factories
 * (`openFusionStores`, `openVesselQueries` in store/index.ts).
 */
export const StoreEnvProperties = {
  /** `standalone` (AISFLOW_REDIS_URL) or `cluster` (AISFLOW_REDIS_CLUSTER_NODES) @default 'standalone' */
  AISFLOW_REDIS_MODE: Type.Union([Type.Literal('standalone'), Type.Literal('cluster')], { default: 'standalone' }),
  /** standalone server @default 'redis://127.0.0.1:6379' */
  AISFLOW_REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', pattern: '^rediss?://' }),
  /** cluster seed nodes, `host:port,host:port` (cluster mode) @default '' */
  AISFLOW_REDIS_CLUSTER_NODES: Type.String({ default: '', pattern: '^$|^[^,:\\s]+:\\d+(,[^,:\\s]+:\\d+)*$' }),
  /** empty: no AUTH @default '' */
  AISFLOW_REDIS_PASSWORD: Type.String({ default: '' }),
  /** a Redis command not answered within this fails as retryable (ms) @default 5000 */
  AISFLOW_REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 5_000 }),
  /** always the PgBouncer address in a deployment @default 'postgres://postgres@127.0.0.1:6433/postgres' */
  AISFLOW_POSTGRES_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:6433/postgres', pattern: '^postgres(ql)?://' }),
  /** schema holding positions/vessels (the one `aisflow migrate` migrated) @default 'aisflow' */
  AISFLOW_POSTGRES_SCHEMA: Type.String({ default: 'aisflow', pattern: '^[a-z_][a-z0-9_]{0,62}$' }),
  /** Postgres connections this process holds at most (PgBouncer multiplexes them) @default 4 */
  AISFLOW_POSTGRES_POOL_MAX: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
  /** history days kept (counted from the later of the day and its partition's creation) @default 30 */
  AISFLOW_HISTORY_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
};

export const StoreEnv = Type.Object(StoreEnvProperties);
export type StoreEnv = Static<typeof StoreEnv>;

/** `aisflow migrate`: a direct Postgres URL (session advisory lock; not PgBouncer). */
export const MigrateEnv = Type.Object({
  /** direct to Postgres, never PgBouncer @default 'postgres://postgres@127.0.0.1:5432/postgres' */
  AISFLOW_POSTGRES_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/postgres', pattern: '^postgres(ql)?://' }),
  AISFLOW_POSTGRES_SCHEMA: StoreEnvProperties.AISFLOW_POSTGRES_SCHEMA,
  AISFLOW_LOG_LEVEL: LogLevelEnv,
});
export type MigrateEnv = Static<typeof MigrateEnv>;

/** The store factories' settings from a loaded configuration that includes the fragment. */
export function storeSettingsFrom(env: Readonly<StoreEnv>, common: { keyPrefix: string; partitions: number }) {
  return {
    keyPrefix: common.keyPrefix,
    partitions: common.partitions,
    redis: {
      mode: env.AISFLOW_REDIS_MODE,
      url: env.AISFLOW_REDIS_URL,
      clusterNodes: env.AISFLOW_REDIS_CLUSTER_NODES.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
      password: env.AISFLOW_REDIS_PASSWORD === '' ? null : env.AISFLOW_REDIS_PASSWORD,
      commandTimeoutMs: env.AISFLOW_REDIS_COMMAND_TIMEOUT_MS,
    },
    postgresUrl: env.AISFLOW_POSTGRES_URL,
    postgresSchema: env.AISFLOW_POSTGRES_SCHEMA,
    postgresPoolMax: env.AISFLOW_POSTGRES_POOL_MAX,
  };
}
