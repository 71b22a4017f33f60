import { readFileSync } from 'node:fs';
import type { FusedVesselState, LiveStateStore, SourceTrustView } from '../types.js';
import { type RedisClient, isCluster } from './connection.js';
import { classifyRedisError } from './errors.js';
import { type RedisKeys, redisKeys } from './keys.js';

const casLua = readFileSync(new URL('./cas.lua', import.meta.url), 'utf8');

/** How vessel documents are stored: RedisJSON when the server has the module, a hash otherwise. */
export type RedisDocMode = 'json' | 'hash';

/** Web Mercator limit of Redis GEO: positions beyond it are stored but not indexed. */
const GEO_MAX_LAT = 85.05112878;
/** Vessels per script call: bounds the time one EVALSHA blocks the server. */
const CAS_CHUNK = 200;

/** Vessel documents per read script call: one partition's cache misses go in a few calls. */
const READ_CHUNK = 500;

/**
 * Reads many vessel documents of ONE partition (all keys share its hash tag, so this also runs on
 * a cluster) in one call. One HGET per vessel instead cost a command, a promise and a reply
 * each: a fusion batch of new vessels issued thousands of them, queued on the connection ahead of
 * the CAS writes. A missing document comes back as nil (Lua false).
 */
const readLua = `local out = {}
for i = 1, #KEYS do
  if ARGV[1] == 'json' then out[i] = redis.call('JSON.GET', KEYS[i]) or false
  else out[i] = redis.call('HGET', KEYS[i], 'doc') or false end
end
return out`;

/** The commands ioredis's defineCommand adds (EVALSHA, EVAL on NOSCRIPT). */
interface CasCommand {
  aisflowCas(numKeys: number, ...args: (string | number)[]): Promise<number>;
  aisflowRead(numKeys: number, ...args: string[]): Promise<Array<string | null>>;
}

/**
 * Detects RedisJSON: `COMMAND INFO JSON.SET` answers [null] when the command does not exist
 * (works where MODULE LIST is disabled, e.g. managed services). In a cluster every node runs
 * the same build, so one node's answer holds for all.
 */
export async function detectDocMode(client: RedisClient): Promise<RedisDocMode> {
  try {
    const info = (await client.call('COMMAND', 'INFO', 'JSON.SET')) as unknown[];
    return Array.isArray(info) && info[0] != null ? 'json' : 'hash';
  } catch (err) {
    throw classifyRedisError(err, 'detecting RedisJSON');
  }
}

export interface RedisLiveStateOptions {
  client: RedisClient;
  keyPrefix: string;
  /** from detectDocMode(); forced in tests */
  mode: RedisDocMode;
}

/**
 * The live picture in Redis: one document per vessel written by a Lua compare-and-set (newer
 * `ts` wins), a geo index and a live index per partition. One script call per partition (and
 * chunk) per batch; calls for different partitions go out together and ioredis pipelines them
 * per node. ioredis's defined command sends EVALSHA and falls back to EVAL on NOSCRIPT (a
 * restarted or failed-over server has lost its script cache).
 */
export class RedisLiveStateStore implements LiveStateStore {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly mode: RedisDocMode;

  constructor(options: RedisLiveStateOptions) {
    this.client = options.client;
    this.keys = redisKeys(options.keyPrefix);
    this.mode = options.mode;
    if (typeof (this.client as { aisflowCas?: unknown }).aisflowCas !== 'function') {
      this.client.defineCommand('aisflowCas', { lua: casLua });
    }
    if (typeof (this.client as { aisflowRead?: unknown }).aisflowRead !== 'function') {
      this.client.defineCommand('aisflowRead', { lua: readLua });
    }
  }

  async writeStates(states: readonly FusedVesselState[]): Promise<{ written: number; stale: number }> {
    // Only the newest state per vessel: older ones would lose the compare-and-set anyway.
    const newest = new Map<number, FusedVesselState>();
    for (const s of states) {
      const seen = newest.get(s.mmsi);
      if (!seen || s.ts > seen.ts) newest.set(s.mmsi, s);
    }
    const byPartition = new Map<number, FusedVesselState[]>();
    for (const s of newest.values()) {
      if (!Number.isInteger(s.mmsi) || !Number.isInteger(s.partition) || !Number.isFinite(s.ts)) {
        throw classifyRedisError(new TypeError(`vessel state of mmsi ${s.mmsi} has a non-integer mmsi/partition or a non-finite ts`), 'validating states');
      }
      const list = byPartition.get(s.partition) ?? [];
      list.push(s);
      byPartition.set(s.partition, list);
    }
    const calls: Promise<number>[] = [];
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length; i += CAS_CHUNK) calls.push(this.cas(partition, list.slice(i, i + CAS_CHUNK)));
    }
    let written = 0;
    try {
      for (const n of await Promise.all(calls)) written += n;
    } catch (err) {
      throw classifyRedisError(err, 'writing vessel states');
    }
    return { written, stale: states.length - written };
  }

  private cas(partition: number, list: readonly FusedVesselState[]): Promise<number> {
    const keys = [this.keys.geo(partition), this.keys.index(partition)];
    const args: (string | number)[] = [this.mode];
    for (const s of list) {
      keys.push(this.keys.vessel(partition, s.mmsi));
      const indexable = s.lat !== null && s.lon !== null && Math.abs(s.lat) <= GEO_MAX_LAT && Math.abs(s.lon) <= 180;
      args.push(s.mmsi, s.ts, indexable ? s.lon! : '', indexable ? s.lat! : '', JSON.stringify(s));
    }
    return (this.client as unknown as CasCommand).aisflowCas(keys.length, ...keys, ...args);
  }

  async writeSources(sources: readonly SourceTrustView[]): Promise<void> {
    if (sources.length === 0) return;
    const fields: string[] = [];
    for (const s of sources) fields.push(s.id, JSON.stringify(s));
    try {
      await this.client.hset(this.keys.sources(), ...fields);
    } catch (err) {
      throw classifyRedisError(err, 'writing source trust');
    }
  }

  async readSources(): Promise<SourceTrustView[]> {
    try {
      const all = await this.client.hgetall(this.keys.sources());
      return Object.values(all)
        .map((json) => JSON.parse(json) as SourceTrustView)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    } catch (err) {
      throw classifyRedisError(err, 'reading source trust');
    }
  }

  async readStates(mmsis: readonly { mmsi: number; partition: number }[]): Promise<Map<number, FusedVesselState>> {
    const out = new Map<number, FusedVesselState>();
    const byPartition = new Map<number, number[]>();
    for (const { mmsi, partition } of mmsis) {
      const list = byPartition.get(partition);
      if (list) list.push(mmsi);
      else byPartition.set(partition, [mmsi]);
    }
    const calls: Promise<void>[] = [];
    const read = this.client as unknown as CasCommand;
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length; i += READ_CHUNK) {
        const chunk = list.slice(i, i + READ_CHUNK);
        const keys = chunk.map((mmsi) => this.keys.vessel(partition, mmsi));
        calls.push(
          read.aisflowRead(keys.length, ...keys, this.mode).then((docs) => {
            docs.forEach((json, n) => {
              if (json) out.set(chunk[n]!, JSON.parse(json) as FusedVesselState);
            });
          }),
        );
      }
    }
    try {
      await Promise.all(calls);
    } catch (err) {
      throw classifyRedisError(err, 'reading vessel states');
    }
    return out;
  }

  /**
   * Soft delete on the Redis side: vessels of every partition whose newest state is older than
   * `cutoffMs` leave the geo and live indexes (box queries and counts stop showing them); their
   * documents stay, and their next newer state puts them back (the CAS re-adds both indexes).
   */
  async pruneSilent(partitions: number, cutoffMs: number): Promise<number> {
    let removed = 0;
    try {
      for (let p = 0; p < partitions; p++) {
        const silent = await this.client.zrangebyscore(this.keys.index(p), '-inf', `(${cutoffMs}`);
        if (silent.length === 0) continue;
        // Same partition, same slot: one atomic MULTI for both indexes.
        await this.client.multi().zrem(this.keys.geo(p), ...silent).zrem(this.keys.index(p), ...silent).exec();
        removed += silent.length;
      }
    } catch (err) {
      throw classifyRedisError(err, 'pruning silent vessels');
    }
    return removed;
  }

  /** Redis GEO search in one partition: members within `radiusM` of a point, or in a box given in metres. */
  async geoSearch(partition: number, query: { lon: number; lat: number } & ({ radiusM: number } | { widthM: number; heightM: number })): Promise<Array<{ mmsi: number; lon: number; lat: number }>> {
    const shape = 'radiusM' in query ? ['BYRADIUS', query.radiusM, 'm'] : ['BYBOX', query.widthM, query.heightM, 'm'];
    const reply = (await this.client.call('GEOSEARCH', this.keys.geo(partition), 'FROMLONLAT', query.lon, query.lat, ...shape, 'WITHCOORD')) as Array<[string, [string, string]]>;
    return reply.map(([member, [lon, lat]]) => ({ mmsi: Number(member), lon: Number(lon), lat: Number(lat) }));
  }

  async countLive(partitions: number): Promise<number> {
    try {
      const counts = await Promise.all(Array.from({ length: partitions }, (_, p) => this.client.zcard(this.keys.index(p))));
      return counts.reduce((a, b) => a + b, 0);
    } catch (err) {
      throw classifyRedisError(err, 'counting live vessels');
    }
  }

  get clustered(): boolean {
    return isCluster(this.client);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
