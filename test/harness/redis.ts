import { randomBytes } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other test (or developer) uses, so files can run in parallel on one server. */
export function uniqueKeyPrefix(label: string): string {
  return `test:${label}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
}

/** Deletes every key under `prefix` (on every master in cluster mode). */
export async function deleteKeys(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = 'nodes' in client && typeof client.nodes === 'function' ? (client as Cluster).nodes('master') : [client as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // a single-key UNLINK each (a scan page of a cluster master spans slots), pipelined per page:
      // one round trip per key took ~40 s after a bench with 250,000 vessels
      if (keys.length === 0) continue;
      for (const [err] of (await node.pipeline(keys.map((key) => ['unlink', key])).exec()) ?? []) if (err) throw err;
    } while (cursor !== '0');
  }
}
