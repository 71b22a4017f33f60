import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { IngestEnv, parseSourcesDocument, secretEnvNames, type SourceConfig } from '../config/ingest.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { PUBLISHER_CONNECTION_OPTIONS } from '../ingest/publisher.js';
import { IngestService, type IngestSettings } from '../ingest/service.js';
import { isStreamConflict } from '../ingest/streams.js';
import { isPartitionsMismatch } from '../shared/stream-partitions.js';
import { systemClock } from '../shared/clock.js';
import { buildOpsServer } from '../telemetry/http-server.js';
import { createLogger } from '../telemetry/logger.js';
import { createIngestMetrics } from '../telemetry/metrics/ingest.js';
import { startTracing, tracingOptionsFromEnv } from '../telemetry/tracing.js';
import { connectNatsForever, EXIT_CONFIG } from './process-kit.js';

/** Exit codes (docs/ingest.md): distinct, so an operator can tell a bad config from a crash. */
export { EXIT_CONFIG };
export const EXIT_STREAM_CONFLICT = 65; // the existing stream cannot be changed to the configuration, or is keyed by another partition count
export const EXIT_DRAIN_INCOMPLETE = 1; // SIGTERM: some records could not be acknowledged in time

export interface IngestFlags {
  file?: string;
  loop?: boolean;
  rate?: number;
  pace?: 'fast' | 'tag-time' | 'rate';
  speedup?: number;
  /** @default 'replay' */
  sourceId?: string;
}

export function register(command: Command): void {
  command
    .option('--file <path>', 'replay this capture (no sources document needed)')
    .option('--loop', 'with --file: start again at the end', false)
    .option('--rate <linesPerSecond>', 'with --file: pace the replay at this many lines per second', Number)
    .option('--pace <mode>', 'with --file: fast | tag-time | rate', undefined)
    .option('--speedup <factor>', 'with --file --pace tag-time: replay this many times faster', Number)
    .option('--source-id <id>', 'with --file: the source id', 'replay')
    .action(async (flags: IngestFlags) => {
      process.exitCode = await run(flags, process.env, (text) => process.stderr.write(text));
      // Normally nothing keeps the loop alive after run(); if a library left a handle, do not hang.
      setTimeout(() => process.exit(), 500).unref();
    });
}

/**
 * The whole `aisflow ingest` run; resolves with the exit code. Takes the environment and the
 * stderr writer as parameters so tests can run it in-process for the start-up failures (config,
 * stream conflict), where spawning a process per case would only add seconds.
 */
export async function run(flags: IngestFlags, processEnv: NodeJS.ProcessEnv, writeErr: (text: string) => void): Promise<number> {
  const fail = (code: number, message: string): number => {
    writeErr(`aisflow ingest: ${message}\n`);
    return code;
  };
  // Secrets are read by name from the sources document, not declared in the schema.
  const env = Object.fromEntries(Object.entries(processEnv).filter(([k]) => !k.startsWith('AISFLOW_SECRET_')));
  let config: Readonly<IngestEnv>;
  let sources: SourceConfig[];
  const secrets: Record<string, string | undefined> = {};
  try {
    config = loadConfig(IngestEnv, env);
    sources = [];
    if (config.AISFLOW_INGEST_SOURCES_FILE) {
      let text: string;
      try {
        text = readFileSync(config.AISFLOW_INGEST_SOURCES_FILE, 'utf8');
      } catch (err) {
        throw new ConfigError(`AISFLOW_INGEST_SOURCES_FILE: cannot read ${config.AISFLOW_INGEST_SOURCES_FILE}: ${(err as Error).message}`, ['AISFLOW_INGEST_SOURCES_FILE']);
      }
      sources.push(...parseSourcesDocument(text, config.AISFLOW_INGEST_SOURCES_FILE).sources);
    }
    if (flags.file) {
      const pace = flags.pace ?? (flags.rate ? 'rate' : 'fast');
      const replay = {
        id: flags.sourceId ?? 'replay',
        kind: 'file',
        address: flags.file,
        pace,
        loop: flags.loop ?? false,
        ...(flags.rate ? { linesPerSecond: flags.rate } : {}),
        ...(flags.speedup ? { speedup: flags.speedup } : {}),
      };
      sources.push(...parseSourcesDocument(JSON.stringify({ sources: [replay] }), '--file').sources);
    }
    if (sources.length === 0) throw new ConfigError('AISFLOW_INGEST_SOURCES_FILE: required unless --file is given', ['AISFLOW_INGEST_SOURCES_FILE']);
    const missing: string[] = [];
    for (const name of secretEnvNames({ sources })) {
      secrets[name] = processEnv[name];
      if (!secrets[name]) missing.push(`${name}: not set (named by a source's apiKeyEnv)`);
    }
    if (missing.length > 0) throw new ConfigError(`invalid configuration:\n  ${missing.join('\n  ')}`, missing);
  } catch (err) {
    if (err instanceof ConfigError) return fail(EXIT_CONFIG, err.message);
    throw err;
  }

  const logger = createLogger({ name: 'ingest', level: config.AISFLOW_LOG_LEVEL });
  const tracing = startTracing('aisflow-ingest', tracingOptionsFromEnv(processEnv));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createIngestMetrics(registry);

  const settings: IngestSettings = {
    names: { stream: config.AISFLOW_NATS_STREAM, dlqStream: config.AISFLOW_NATS_DLQ_STREAM, prefix: config.AISFLOW_NATS_SUBJECT_PREFIX },
    partitions: config.AISFLOW_PARTITIONS,
    stream: {
      maxAgeS: config.AISFLOW_STREAM_MAX_AGE_S,
      maxBytes: config.AISFLOW_STREAM_MAX_BYTES,
      duplicateWindowS: config.AISFLOW_STREAM_DUPLICATE_WINDOW_S,
      replicas: config.AISFLOW_STREAM_REPLICAS,
    },
    dlq: { maxAgeS: config.AISFLOW_DLQ_MAX_AGE_S, maxBytes: config.AISFLOW_DLQ_MAX_BYTES, replicas: config.AISFLOW_STREAM_REPLICAS },
    batch: { maxRecords: config.AISFLOW_BATCH_MAX_RECORDS, maxBytes: config.AISFLOW_BATCH_MAX_BYTES, lingerMs: config.AISFLOW_BATCH_LINGER_MS },
    publish: { maxInflight: config.AISFLOW_PUBLISH_MAX_INFLIGHT, timeoutMs: config.AISFLOW_PUBLISH_TIMEOUT_MS },
    maxPendingRecords: config.AISFLOW_INGEST_MAX_PENDING_RECORDS,
    maxLineBytes: config.AISFLOW_INGEST_MAX_LINE_BYTES,
    fragmentTimeoutMs: config.AISFLOW_FRAGMENT_TIMEOUT_MS,
  };

  const nc = await connectNatsForever(config.AISFLOW_NATS_URL, `aisflow-ingest-${hostname()}`, logger, PUBLISHER_CONNECTION_OPTIONS);

  const service = new IngestService({
    nc,
    settings,
    sources,
    secrets,
    metrics,
    logger,
    clock: systemClock,
    runId: `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
  });

  const ops = buildOpsServer({
    registry,
    checks: [
      { name: 'nats', check: () => (nc.isClosed() ? 'connection closed' : true) },
      { name: 'sources', check: () => (service.isStarted ? true : 'starting') },
    ],
  });
  await ops.listen({ port: config.AISFLOW_HTTP_PORT, host: '0.0.0.0' });

  try {
    await service.start();
  } catch (err) {
    await ops.close();
    await nc.close();
    if (isStreamConflict(err) || isPartitionsMismatch(err)) {
      logger.error({ code: err.code, stream: err.stream }, err.message);
      return fail(EXIT_STREAM_CONFLICT, `${err.code}: ${err.message}`);
    }
    throw err;
  }
  logger.info({ sources: sources.filter((s) => s.enabled).map((s) => `${s.kind}:${s.id}`) }, 'ingest started');

  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // A replay of files without loop ends by itself: then drain and exit like on SIGTERM.
  const finite = sources.filter((s) => s.enabled).every((s) => s.kind === 'file' && !s.loop);
  const reason = await Promise.race([stopSignal, ...(finite ? [service.allFinished().then(() => 'end of input')] : [])]);

  logger.info({ reason, pending: service.publisher.pending }, 'draining: stop reading, publish everything read');
  const left = await service.stop(config.AISFLOW_DRAIN_TIMEOUT_S * 1000);
  await ops.close();
  await nc.drain().catch(() => nc.close());
  await tracing.shutdown();
  if (left > 0) {
    logger.error({ unacknowledged: left }, 'drain timed out: records read but not acknowledged by JetStream');
    return EXIT_DRAIN_INCOMPLETE;
  }
  logger.info(
    {
      decoded: await metricValue(registry, 'aisflow_ingest_messages_total'),
      published: await metricValue(registry, 'aisflow_ingest_records_published_total'),
      deadLettered: await metricValue(registry, 'aisflow_ingest_dlq_writes_total'),
    },
    'drained; exiting',
  );
  return 0;
}

async function metricValue(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.reduce((a, v) => a + v.value, 0) ?? 0;
}
