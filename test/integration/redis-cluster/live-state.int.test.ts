import { createRedisClient } from '../../../pipeline/src/store/redis/connection.js';
import { REDIS_CLUSTER_NODES } from '../../harness/redis-cluster.js';
import { defineLiveStateSuite } from '../redis/live-state-suite.js';

// The same suite as standalone, on the 6-node cluster the global setup starts: keys of one
// partition share a hash tag, so every script call stays within one slot.
defineLiveStateSuite('cluster', () =>
  createRedisClient({ mode: 'cluster', url: '', clusterNodes: REDIS_CLUSTER_NODES.map((n) => `${n.host}:${n.port}`), password: null }),
);
