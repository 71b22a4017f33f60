import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { decideSettingsFrom, FusionEnv, trustSettingsFrom } from '../config/fusion.js';
import { storeSettingsFrom } from '../config/store.js';
import { defaultDecideSettings } from '../fusion/decide.js';
import { defaultTrustSettings } from '../fusion/trust.js';
import { FusionWorker } from '../fusion/worker.js';
import { systemClock } from '../shared/clock.js';
import { buildOpsServer } from '../telemetry/http-server.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createFusionMetrics, type FusionMetrics } from '../telemetry/metrics/fusion.js';
import { startTracing, tracingOptionsFromEnv } from '../telemetry/tracing.js';
import { openFusionStores } from '../store/index.js';
import { connectNatsForever, EXIT_CONFIG, loadProcessConfig, streamPartitionsMatch } from './process-kit.js';

/** Exit codes (docs/fusion.md). */
export { EXIT_CONFIG };
export const EXIT_DRAIN_INCOMPLETE = 1; // SIGTERM: in-flight batches did not finish in time

export function register(command: Command): void {
  command.action(async () => {
    process.exitCode = await run();
    setTimeout(() => process.exit(), 500).unref();
  });
}

async function run(): Promise<number> {
  const config: Readonly<FusionEnv> | null = loadProcessConfig('fusion', FusionEnv, process.env);
  if (!config) return EXIT_CONFIG;
  const memberId = config.AISFLOW_MEMBER_ID ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}`;
  const logger: Logger = createLogger({ name: 'fusion', level: config.AISFLOW_LOG_LEVEL });
  const tracing = startTracing('aisflow-fusion', tracingOptionsFromEnv(process.env));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: FusionMetrics = createFusionMetrics(registry);

  const nc = await connectNatsForever(config.AISFLOW_NATS_URL, `aisflow-fusion-${memberId}`, logger);
  const names = { stream: config.AISFLOW_NATS_STREAM, dlqStream: config.AISFLOW_NATS_DLQ_STREAM, prefix: config.AISFLOW_NATS_SUBJECT_PREFIX };
  if (!(await streamPartitionsMatch(nc, names, config.AISFLOW_PARTITIONS, logger))) {
    await nc.close();
    return EXIT_CONFIG;
  }

  const stores = await openFusionStores(storeSettingsFrom(config, { keyPrefix: config.AISFLOW_KEY_PREFIX, partitions: config.AISFLOW_PARTITIONS }), { logger });
  metrics.redisMode.set({ mode: stores.redisMode }, 1);
  metrics.redisMode.set({ mode: stores.redisMode === 'json' ? 'hash' : 'json' }, 0);
  logger.info({ redisMode: config.AISFLOW_REDIS_MODE, redisDoc: stores.redisMode }, 'stores opened');
  // the readiness check runs before the worker exists (ops server first, so probes answer)
  const started: { worker?: FusionWorker } = {};
  const ops = buildOpsServer({
    registry,
    checks: [
      { name: 'nats', check: () => (nc.isClosed() ? 'connection closed' : true) },
      { name: 'fusion', check: () => (started.worker ? started.worker.readiness() : 'starting') },
    ],
  });
  await ops.listen({ port: config.AISFLOW_HTTP_PORT, host: '0.0.0.0' });

  const worker = await FusionWorker.start({
    nc,
    names,
    partitions: config.AISFLOW_PARTITIONS,
    memberId,
    heartbeatMs: config.AISFLOW_FUSION_HEARTBEAT_MS,
    memberTtlMs: config.AISFLOW_FUSION_MEMBER_TTL_MS,
    maxAckPending: config.AISFLOW_FUSION_MAX_ACK_PENDING,
    ackWaitMs: config.AISFLOW_FUSION_ACK_WAIT_MS,
    batchMaxMessages: config.AISFLOW_FUSION_BATCH_MAX_MESSAGES,
    maxInFlightBytes: config.AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES,
    postgresLingerMs: config.AISFLOW_FUSION_POSTGRES_LINGER_MS,
    retryDelayMs: config.AISFLOW_FUSION_RETRY_DELAY_MS,
    maxDeliver: config.AISFLOW_FUSION_MAX_DELIVER,
    lruSize: config.AISFLOW_FUSION_LRU_SIZE,
    decide: decideSettingsFrom(config, defaultDecideSettings),
    trust: trustSettingsFrom(config, defaultTrustSettings),
    breakerFailures: config.AISFLOW_FUSION_BREAKER_FAILURES,
    breakerHalfOpenMs: config.AISFLOW_FUSION_BREAKER_HALF_OPEN_MS,
    sourcesIntervalMs: config.AISFLOW_FUSION_SOURCES_INTERVAL_MS,
    live: stores.live,
    history: stores.history,
    metrics,
    logger,
    clock: systemClock,
    maintenance: { intervalMs: config.AISFLOW_FUSION_MAINTENANCE_INTERVAL_S * 1000, run: (nowMs) => stores.maintain({ nowMs, retentionDays: config.AISFLOW_HISTORY_RETENTION_DAYS }) },
    softDelete: { afterMs: config.AISFLOW_FUSION_SOFT_DELETE_AFTER_S * 1000, intervalMs: config.AISFLOW_FUSION_SOFT_DELETE_INTERVAL_S * 1000, run: stores.softDelete },
  });
  started.worker = worker;
  logger.info({ memberId, partitions: config.AISFLOW_PARTITIONS, owned: worker.owned.length }, 'fusion started');

  const reason = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ reason }, 'stopping: leave membership, finish in-flight batches');
  const stopped = await Promise.race([
    worker.stop().then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), config.AISFLOW_DRAIN_TIMEOUT_S * 1000).unref()),
  ]);
  await stores.close().catch((err: unknown) => logger.warn({ err }, 'closing stores failed'));
  await ops.close();
  await nc.drain().catch(() => nc.close());
  await tracing.shutdown();
  if (!stopped) {
    logger.error('drain timed out: unacknowledged messages will be redelivered to another member');
    return EXIT_DRAIN_INCOMPLETE;
  }
  logger.info('stopped');
  return 0;
}
