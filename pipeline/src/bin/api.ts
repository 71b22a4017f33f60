import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createDlqAdmin } from '../dlq/admin.js';
import { ApiEnv, type ApiConfig } from '../config/api.js';
import { storeSettingsFrom } from '../config/store.js';
import { openVesselQueries } from '../store/index.js';
import { buildServer } from '../api/server.js';
import { natsStreamStats } from '../api/stream-stats.js';
import { natsUpdateFeed } from '../api/update-feed.js';
import { createLogger } from '../telemetry/logger.js';
import { createApiMetrics } from '../telemetry/metrics/api.js';
import { startTracing, tracingOptionsFromEnv } from '../telemetry/tracing.js';
import { connectNatsForever, EXIT_CONFIG, loadProcessConfig, streamPartitionsMatch } from './process-kit.js';

/** Exit codes: distinct, so an operator can tell a bad configuration from a crash. */
export { EXIT_CONFIG };

export function register(command: Command): void {
  command
    .option('--port <port>', 'listen on this port (overrides AISFLOW_HTTP_PORT)', Number)
    .action(async (flags: { port?: number }) => {
      process.exitCode = await run(flags);
      setTimeout(() => process.exit(), 500).unref();
    });
}

async function run(flags: { port?: number }): Promise<number> {
  const config: Readonly<ApiConfig> | null = loadProcessConfig('api', ApiEnv, process.env);
  if (!config) return EXIT_CONFIG;
  const logger = createLogger({ name: 'api', level: config.AISFLOW_LOG_LEVEL });
  const tracing = startTracing('aisflow-api', tracingOptionsFromEnv(process.env));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createApiMetrics(registry);
  const names = { stream: config.AISFLOW_NATS_STREAM, dlqStream: config.AISFLOW_NATS_DLQ_STREAM, prefix: config.AISFLOW_NATS_SUBJECT_PREFIX };

  const nc = await connectNatsForever(config.AISFLOW_NATS_URL, `aisflow-api-${hostname()}`, logger);
  // the per-partition geo indexes are read by this count: another one would miss vessels
  if (!(await streamPartitionsMatch(nc, names, config.AISFLOW_PARTITIONS, logger))) {
    await nc.close();
    return EXIT_CONFIG;
  }

  const stores = await openVesselQueries(storeSettingsFrom(config, { keyPrefix: config.AISFLOW_KEY_PREFIX, partitions: config.AISFLOW_PARTITIONS }));
  const feed = natsUpdateFeed(nc, names, () => logger.debug('unparsable live update skipped'));
  const dlq = createDlqAdmin({ js: jetstream(nc), jsm: await jetstreamManager(nc), names, partitions: config.AISFLOW_PARTITIONS });
  const adminToken = config.AISFLOW_ADMIN_TOKEN === '' ? null : config.AISFLOW_ADMIN_TOKEN;

  const app = buildServer({
    queries: stores.queries,
    dlq,
    dlqStreamName: names.dlqStream,
    adminToken,
    registry,
    metrics,
    updates: feed,
    streamStats: natsStreamStats(nc, names),
    readiness: [
      { name: 'nats', check: () => (nc.isClosed() ? 'connection closed' : true) },
      {
        name: 'redis',
        check: async (): Promise<true> => {
          await stores.queries.countVessels();
          return true;
        },
      },
    ],
    logger,
    limits: {
      maxPageSize: config.AISFLOW_API_MAX_PAGE_SIZE,
      defaultPageSize: Math.min(100, config.AISFLOW_API_MAX_PAGE_SIZE),
      maxTrackPoints: config.AISFLOW_API_MAX_TRACK_POINTS,
      maxTrackRangeMs: config.AISFLOW_API_MAX_TRACK_RANGE_H * 3_600_000,
      maxRadiusM: config.AISFLOW_API_MAX_RADIUS_M,
      sseHeartbeatMs: config.AISFLOW_API_SSE_HEARTBEAT_MS,
      sseMaxBufferedBytes: config.AISFLOW_API_SSE_MAX_BUFFERED_BYTES,
      sseMaxConsecutiveDrops: config.AISFLOW_API_SSE_MAX_CONSECUTIVE_DROPS,
      sseMaxClients: config.AISFLOW_API_SSE_MAX_CLIENTS,
    },
  });
  if (adminToken === null) logger.warn('admin routes are disabled: AISFLOW_ADMIN_TOKEN is not set (they answer 404 AISFLOW_ERR_API_DISABLED)');

  const port = flags.port ?? config.AISFLOW_HTTP_PORT;
  await app.listen({ port, host: config.AISFLOW_HTTP_HOST });
  logger.info({ port, host: config.AISFLOW_HTTP_HOST, admin: adminToken !== null }, 'api listening');

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down');
  await app.close();
  feed.close();
  await stores.close().catch((err: unknown) => logger.warn({ err }, 'closing the stores failed'));
  await nc.drain().catch(() => nc.close());
  await tracing.shutdown();
  return 0;
}
