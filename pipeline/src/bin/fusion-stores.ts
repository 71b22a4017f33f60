import type { FusionEnv } from '../config/fusion.js';
import { DEFAULT_POSTGRES_SCHEMA } from '../store/index.js';
import { PostgresHistoryStore } from '../store/postgres/history.js';
import { createPgPool } from '../store/postgres/pool.js';
import { createRedisClient } from '../store/redis/connection.js';
import { detectDocMode, RedisLiveStateStore } from '../store/redis/live-state.js';
import type { HistoryStore, LiveStateStore } from '../store/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { FusionMetrics } from '../telemetry/metrics/fusion.js';


export interface FusionStores {
  live: LiveStateStore;
  history: HistoryStore;
  /** marks vessels silent since `cutoffMs` deleted (Postgres) and drops them from the live indexes (Redis) */
  softDelete: (cutoffMs: number) => Promise<number>;
  /** history partition upkeep: create days ahead, drop days past retention */
  maintain(nowMs: number): Promise<{ created: number; dropped: string[] }>;
  close(): Promise<void>;
}

/**
 * Opens the Redis live-state store (standalone or cluster; RedisJSON when the server has it)
 * and the Postgres history store (through PgBouncer) from the fusion configuration. Composed
 * here rather than with the store module's openFusionStores() for two process concerns: wait
 * for Redis instead of crash-looping when pods start together, and give every pooled Postgres
 * client an 'error' listener (a checked-out client whose server goes away emits 'error', and an
 * unhandled one would end the process; the failing query still reports to the store).
 */
export async function openFusionStores(config: Readonly<FusionEnv>, logger: Logger, metrics: FusionMetrics): Promise<FusionStores> {
  const client = createRedisClient({
    mode: config.AISFLOW_REDIS_MODE,
    url: config.AISFLOW_REDIS_URL,
    clusterNodes: config.AISFLOW_REDIS_CLUSTER_NODES.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    password: config.AISFLOW_REDIS_PASSWORD === '' ? null : config.AISFLOW_REDIS_PASSWORD,
  });
  client.on('error', (err: unknown) => logger.debug({ err }, 'redis connection error'));
  // Redis may not be up yet (pods start together): retry the probe rather than crash-loop
  let mode: Awaited<ReturnType<typeof detectDocMode>> | undefined;
  for (let attempt = 0; mode === undefined; attempt++) {
    try {
      mode = await detectDocMode(client);
    } catch (err) {
      if (attempt === 0) logger.warn({ err }, 'Redis not answering yet; retrying');
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** Math.min(attempt, 5))));
    }
  }
  metrics.redisMode.set({ mode }, 1);
  metrics.redisMode.set({ mode: mode === 'json' ? 'hash' : 'json' }, 0);
  const live = new RedisLiveStateStore({ client, keyPrefix: config.AISFLOW_KEY_PREFIX, mode });

  const pool = createPgPool({ url: config.AISFLOW_POSTGRES_URL });
  // a checked-out client whose server goes away emits 'error' (the pool covers idle ones only);
  // the query in progress fails too, and the store classifies that failure
  pool.on('connect', (c) => c.on('error', (err: unknown) => logger.debug({ err }, 'postgres connection error')));
  const history = new PostgresHistoryStore({ pool, schema: DEFAULT_POSTGRES_SCHEMA });
  logger.info({ redisMode: config.AISFLOW_REDIS_MODE, redisDoc: mode }, 'stores opened');

  return {
    live,
    history,
    softDelete: async (cutoffMs) => {
      const n = await history.softDelete(cutoffMs);
      await live.pruneSilent(config.AISFLOW_PARTITIONS, cutoffMs);
      return n;
    },
    maintain: (nowMs) => history.maintain({ nowMs, retentionDays: config.AISFLOW_HISTORY_RETENTION_DAYS }),
    close: async () => {
      await Promise.allSettled([live.close(), history.close()]);
    },
  };
}
