import { Redis } from 'ioredis';
import { REDIS_URL } from '../../harness/redis.js';

// Standalone Redis (6379) is started by the machine/CI, not by us: fail early with a clear
// message when it is not there. Test files use their own key prefixes; nothing to clear.
export default async function setup(): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`Redis is not reachable at ${REDIS_URL}: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}
