import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  mode: 'standalone' | 'cluster';
  /** standalone: redis://host:port */
  url: string;
  /** cluster: seed nodes as host:port */
  clusterNodes: readonly string[];
  password: string | null;
  /** a command not answered within this fails (retryable) instead of waiting @default 5000 (ms) */
  commandTimeoutMs?: number;
}

/**
 * One ioredis client, standalone or cluster. Auto-pipelining groups the commands issued in one
 * event-loop tick into one round trip per node (in cluster mode: per node, by slot), which is
 * exactly the grouping a plain MULTI/pipeline cannot do across slots. Commands fail fast when
 * the server is away (one retry, then a retryable error) so fusion's breaker sees the outage
 * instead of a queue growing in memory.
 */
export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  const common = {
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: 2_000,
    enableAutoPipelining: true,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    ...(options.password ? { password: options.password } : {}),
  };
  const client = options.mode === 'cluster' ? createCluster(options, common) : new Redis(options.url, common);
  // Connection errors surface as failed (classified) commands; without a listener ioredis would
  // also print every reconnect attempt. Callers may add their own listener to log them.
  client.on('error', () => {});
  return client;
}

function createCluster(options: RedisConnectionOptions, common: RedisOptions): Cluster {
  const nodes = options.clusterNodes.map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
  return new Cluster(nodes, {
    enableAutoPipelining: true,
    // ioredis groups auto-pipelined commands by the slot of their first argument; for the CAS
    // and read scripts that is the key count, not a key, so it would mix nodes in one pipeline. The
    // script is sent on its own (ioredis still routes it by its real keys); every other command
    // (HGET, GEOSEARCH, ZCARD...) starts with its key and is pipelined per node.
    autoPipeliningIgnoredCommands: ['aisflowCas', 'aisflowRead'],
    redisOptions: common,
    clusterRetryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    slotsRefreshTimeout: 2_000,
  });
}

/** True for a Cluster client (its `nodes()` lists the masters to fan out over). */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
