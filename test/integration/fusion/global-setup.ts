import { useScriptService } from '../../harness/pgbouncer.js';
import { useRedisCluster } from '../../harness/redis-cluster.js';

/**
 * Fusion's integration tests write through the project's PgBouncer (6433) and run their suite a
 * second time on the 6-node Redis Cluster (7101-7106): start both (idempotent, shared with other
 * test projects; the last user stops what a test run started).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const [stopBouncer, stopCluster] = await Promise.all([useScriptService('pgbouncer', 'scripts/services/pgbouncer.sh'), useRedisCluster()]);
  return async () => {
    await stopCluster();
    await stopBouncer();
  };
}
