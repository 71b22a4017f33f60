import { createRedisClient } from '../../../pipeline/src/store/redis/connection.js';
import { REDIS_URL } from '../../harness/redis.js';
import { defineLiveStateSuite } from './live-state-suite.js';

defineLiveStateSuite('standalone', () => createRedisClient({ mode: 'standalone', url: REDIS_URL, clusterNodes: [], password: null }));
