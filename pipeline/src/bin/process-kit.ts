import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Static, TObject } from '@sinclair/typebox';
import { ConfigError, loadConfig } from '../config/load-config.js';
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
