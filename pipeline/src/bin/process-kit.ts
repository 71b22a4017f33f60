import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Static, TObject } from '@sinclair/typebox';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { checkStreamPartitions, isPartitionsMismatch } from '../shared/stream-partitions.js';
import type { NatsNames } from '../shared/subjects.js';
import type { Logger } from '../telemetry/logger.js';

/** sysexits EX_CONFIG: an environment variable or a config document is invalid. */
export const EXIT_CONFIG = 78;

/**
 * Loads a process's env schema; on invalid configuration prints every problem under the
 * command's name and returns null so the caller exits with EXIT_CONFIG instead of a stack trace.
 */
export function loadProcessConfig<T extends TObject>(command: string, schema: T, env: Record<string, string | undefined>): Readonly<Static<T>> | null {
  try {
    return loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`aisflow ${command}: ${err.message}\n`);
      return null;
    }
    throw err;
  }
}

/**
 * Connects to NATS and keeps reconnecting forever: while NATS is away, publishers retry and
 * consumers wait, so giving up would only turn an outage into a crash loop. `extra` adds
 * per-process client options.
 */
export async function connectNatsForever(urls: string, name: string, logger: Logger, extra: Partial<NodeConnectionOptions> = {}): Promise<NatsConnection> {
  const nc = await connect({
    ...extra,
    servers: urls.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') logger.warn({ nats: s.type }, 'NATS connection status');
    }
  })().catch(() => {});
  return nc;
}

/**
 * False (logged) when the record stream is keyed by another partition count than `partitions`:
 * reading it would miss records and split vessels across partitions, so the caller exits with
 * EXIT_CONFIG. A stream that does not exist yet passes: ingest creates (and checks) it.
 */
export async function streamPartitionsMatch(nc: NatsConnection, names: NatsNames, partitions: number, logger: Logger): Promise<boolean> {
  try {
    await checkStreamPartitions(await jetstreamManager(nc), names, partitions);
    return true;
  } catch (err) {
    if (!isPartitionsMismatch(err)) throw err;
    logger.error({ code: err.code, stream: err.stream }, err.message);
    return false;
  }
}
