import { useRedisCluster } from '../../harness/redis-cluster.js';

// The 6-node cluster on 7101-7106; test files use their own key prefixes.
export default async function setup(): Promise<() => Promise<void>> {
  return useRedisCluster();
}
