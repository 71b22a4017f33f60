import { Cluster } from 'ioredis';
import { useScriptService } from './pgbouncer.js';

/** The 6-node cluster `scripts/services/redis-cluster.sh` starts: 3 masters, 3 replicas. */
export const REDIS_CLUSTER_NODES = [7101, 7102, 7103, 7104, 7105, 7106].map((port) => ({ host: '127.0.0.1', port }));

export function useRedisCluster(): Promise<() => Promise<void>> {
  return useScriptService('redis-cluster', 'scripts/services/redis-cluster.sh');
}

export function redisClusterClient(): Cluster {
  return new Cluster(REDIS_CLUSTER_NODES, { redisOptions: { maxRetriesPerRequest: 2 }, enableReadyCheck: true });
}
