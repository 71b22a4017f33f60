import { createPgPool } from './postgres/pool.js';
import { PostgresHistoryStore } from './postgres/history.js';
import { createRedisClient, type RedisConnectionOptions } from './redis/connection.js';
import { detectDocMode, RedisLiveStateStore, type RedisDocMode } from './redis/live-state.js';
import { StoreVesselQueries } from './queries-impl.js';
import type { VesselQueries } from './queries.js';
import { backoffDelay } from '../shared/backoff.js';
import type { Logger } from '../telemetry/logger.js';

export { RetryableStoreError, UnrecoverableStoreError, isRetryableStoreError, isUnrecoverableStoreError } from './errors.js';
export { PostgresHistoryStore } from './postgres/history.js';
export { migrate } from './postgres/migrate.js';
export { RedisLiveStateStore, detectDocMode, type RedisDocMode } from './redis/live-state.js';
export { StoreVesselQueries } from './queries-impl.js';

/** Default Postgres schema of the pipeline's tables (AISFLOW_POSTGRES_SCHEMA). */
export const DEFAULT_POSTGRES_SCHEMA = 'aisflow';

export interface StoreSettings {
  keyPrefix: string;
  partitions: number;
  redis: { mode: 'standalone' | 'cluster'; url: string; clusterNodes: string[]; password: string | null; commandTimeoutMs?: number };
  /** the PgBouncer address in a deployment */
  postgresUrl: string;
  /** @default 'aisflow' */
  postgresSchema?: string;
  /** pool size of this process @default 4 */
  postgresPoolMax?: number;
}

function redisOptions(s: StoreSettings): RedisConnectionOptions {
  return { mode: s.redis.mode, url: s.redis.url, clusterNodes: s.redis.clusterNodes, password: s.redis.password, ...(s.redis.commandTimeoutMs ? { commandTimeoutMs: s.redis.commandTimeoutMs } : {}) };
}

/**
 * What `aisflow api` opens (loaded by api/open-queries.ts): VesselQueries over Redis and
 * Postgres. Does not wait for the stores to be up: a store that is down fails its queries with
 * RetryableStoreError (the API's breaker and /readyz show it) and recovers by itself.
 */
export async function openVesselQueries(settings: StoreSettings): Promise<{ queries: VesselQueries; close(): Promise<void> }> {
  const client = createRedisClient(redisOptions(settings));
  // The API must start even while Redis is down (readiness says so); if detection cannot ask,
  // assume the hash layout, which every Redis supports. Known limit: an API started during a
  // Redis outage against a RedisJSON server needs a restart to read documents.
  const mode = await detectDocMode(client).catch(() => 'hash' as RedisDocMode);
  const live = new RedisLiveStateStore({ client, keyPrefix: settings.keyPrefix, mode });
  const pool = createPgPool({ url: settings.postgresUrl, max: settings.postgresPoolMax ?? 4 });
  const queries = new StoreVesselQueries({ live, pool, schema: settings.postgresSchema ?? DEFAULT_POSTGRES_SCHEMA, partitions: settings.partitions });
  return {
    queries,
    close: async () => {
      await Promise.allSettled([live.close(), pool.end()]);
    },
  };
}

export interface OpenedFusionStores {
  live: RedisLiveStateStore;
  history: PostgresHistoryStore;
  /** 'json' (RedisJSON) or 'hash': the aisflow_fusion_redis_mode gauge */
  redisMode: RedisDocMode;
  /** soft delete in both stores: Postgres `deleted_at`, Redis geo/live indexes; returns vessels marked in Postgres */
  softDelete(cutoffMs: number): Promise<number>;
  /** history partition upkeep (ahead creation, retention drop); call every few minutes */
  maintain(options: { nowMs: number; retentionDays: number; aheadDays?: number }): Promise<{ created: number; dropped: string[] }>;
  close(): Promise<void>;
}

export interface OpenFusionStoresOptions {
  /**
   * For a long-running process (`aisflow fusion`): wait for Redis with backoff instead of
   * failing when it does not answer yet (pods start together; no crash loop), and log connection
   * errors of Redis and of checked-out Postgres clients (the pool covers idle ones only; an
   * unhandled 'error' would end the process, while the failing query still reports to the store).
   */
  logger?: Logger;
}

/**
 * What `aisflow fusion` opens: the Redis live-state store (RedisJSON detected at start) and the
 * Postgres history store through PgBouncer. Without `options.logger` Redis must answer at once.
 */
export async function openFusionStores(settings: StoreSettings, options: OpenFusionStoresOptions = {}): Promise<OpenedFusionStores> {
  const { logger } = options;
  const client = createRedisClient(redisOptions(settings));
  if (logger) client.on('error', (err: unknown) => logger.debug({ err }, 'redis connection error'));
  let redisMode: RedisDocMode;
  try {
    redisMode = logger ? await waitForDocMode(client, logger) : await detectDocMode(client);
  } catch (err) {
    client.disconnect();
    throw err;
  }
  const live = new RedisLiveStateStore({ client, keyPrefix: settings.keyPrefix, mode: redisMode });
  const pool = createPgPool({ url: settings.postgresUrl, max: settings.postgresPoolMax ?? 4 });
  if (logger) pool.on('connect', (c) => c.on('error', (err: unknown) => logger.debug({ err }, 'postgres connection error')));
  const history = new PostgresHistoryStore({ pool, schema: settings.postgresSchema ?? DEFAULT_POSTGRES_SCHEMA });
  return {
    live,
    history,
    redisMode,
    softDelete: async (cutoffMs) => {
      const marked = await history.softDelete(cutoffMs);
      await live.pruneSilent(settings.partitions, cutoffMs);
      return marked;
    },
    maintain: (options) => history.maintain(options),
    close: async () => {
      await Promise.allSettled([live.close(), history.close()]);
    },
  };
}

/** Asks Redis for its document mode until it answers, backing off up to 5 s between tries. */
async function waitForDocMode(client: Parameters<typeof detectDocMode>[0], logger: Logger): Promise<RedisDocMode> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await detectDocMode(client);
    } catch (err) {
      if (attempt === 0) logger.warn({ err }, 'Redis not answering yet; retrying');
      await new Promise((r) => setTimeout(r, backoffDelay(attempt, 250, 5_000)));
    }
  }
}
