/**
 * Redis key layout. Every key starts with the environment prefix (AISFLOW_KEY_PREFIX) so several
 * pipelines or tests share one server; per-partition keys carry the partition as a `{hash tag}`,
 * so a vessel's document, its partition's geo index and live index hash to the same Redis
 * Cluster slot and one Lua script may touch them all.
 *
 *   <prefix>:v:{<p>}:<mmsi>   the vessel's live document (RedisJSON, or a hash of ts + doc)
 *   <prefix>:geo:{<p>}        GEO index (sorted set) of the partition's live vessels with a position
 *   <prefix>:idx:{<p>}        sorted set mmsi -> ts of the partition's live vessels (counting, soft delete)
 *   <prefix>:sources          hash: source id -> SourceTrustView JSON
 */
export interface RedisKeys {
  vessel(partition: number, mmsi: number): string;
  geo(partition: number): string;
  index(partition: number): string;
  sources(): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    vessel: (p, mmsi) => `${prefix}:v:{${p}}:${mmsi}`,
    geo: (p) => `${prefix}:geo:{${p}}`,
    index: (p) => `${prefix}:idx:{${p}}`,
    sources: () => `${prefix}:sources`,
  };
}
