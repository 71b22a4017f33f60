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
/**
 * Vessels per script call: bounds the time one EVALSHA blocks the server (~500 x 4 commands,
 * a millisecond or two) while keeping the calls (promises, replies, per-call overhead) few.
 */
const CAS_CHUNK = 500;

/** Vessel documents per read script call: one partition's cache misses go in a few calls. */
const READ_CHUNK = 500;

/**
 * Reads many vessel documents of ONE partition (all keys share its hash tag, so this also runs on
 * a cluster) in one call. One HGET per vessel instead cost a command, a promise and a reply
 * each: a fusion batch of new vessels issued thousands of them, queued on the connection ahead of
 * the CAS writes. Hash mode: two entries per vessel (position document, static document); json
 * mode: the whole document. A missing one comes back as nil (Lua false).
 */
const readLua = `local out = {}
for i = 1, #KEYS do
  if ARGV[1] == 'json' then out[i] = redis.call('JSON.GET', KEYS[i]) or false
  else
    local d = redis.call('HMGET', KEYS[i], 'doc', 'st')
    out[2 * i - 1] = d[1]
    out[2 * i] = d[2]
  end
end
return out`;

/** The commands ioredis's defineCommand adds (EVALSHA, EVAL on NOSCRIPT). */
interface CasCommand {
  aisflowCas(numKeys: number, ...args: string[]): Promise<string>;
  aisflowRead(numKeys: number, ...args: string[]): Promise<Array<string | null>>;
}

type VesselStatic = NonNullable<FusedVesselState['static']>;

/**
 * The version of a vessel's static part, the compare-and-set key of the static half of the
 * document: its report time, then how many fields it knows. A newer static report raises it; an
 * older one that only fills gaps (fusion's mergeStatic keeps `updatedAt`) raises it too; a
 * redelivery ties and loses. Exact in a double (updatedAt < 2^48).
 */
export function staticVersion(st: VesselStatic): number {
  let known = 0;
  for (const k in st) {
    if (k !== 'updatedAt' && st[k as keyof VesselStatic] != null) known++;
  }
  return st.updatedAt * 16 + Math.min(known, 15);
}

/**
 * The position half of a document: a JSON array (the fields in this order), about half the size
 * of the object it replaces; mmsi and partition are in the key. Documents written before it are
 * whole-state JSON objects, still read (fromDocument).
 */
function positionDocument(s: FusedVesselState): string {
  return JSON.stringify([s.ts, s.lat, s.lon, s.speed, s.course, s.heading, s.status, s.msgType, s.source, s.sources]);
}

type PositionDocument = [number, number | null, number | null, number | null, number | null, number | null, number | null, number, string, string[]];

/**
 * A stored document (either layout) back to the state: `doc` the parsed position half (an array)
 * or a whole-state object written before the split, `stat` the static half when stored apart.
 */
export function fromDocument(mmsi: number, partition: number, doc: PositionDocument | FusedVesselState, stat: VesselStatic | null): FusedVesselState {
  if (!Array.isArray(doc)) return { ...doc, static: stat ?? doc.static ?? null };
  const [ts, lat, lon, speed, course, heading, status, msgType, source, sources] = doc;
  return { mmsi, partition, ts, lat, lon, speed, course, heading, status, msgType, source, sources, static: stat };
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

/**
 * Hash mode keeps the halves in fields `doc` and `st`; a RedisJSON document is `{ts, doc, sv, st}`
 * (or a whole-state object written before the split, possibly with `doc` and `st` added since).
 */
function fromHashFields(mmsi: number, partition: number, doc: string | null, st: string | null): FusedVesselState | null {
  return doc ? fromDocument(mmsi, partition, JSON.parse(doc) as PositionDocument | FusedVesselState, st ? (JSON.parse(st) as VesselStatic) : null) : null;
}

function fromJsonDocument(mmsi: number, partition: number, json: string | null): FusedVesselState | null {
  if (!json) return null;
  const parsed = JSON.parse(json) as FusedVesselState & { doc?: PositionDocument; st?: VesselStatic | null };
  return fromDocument(mmsi, partition, Array.isArray(parsed.doc) ? parsed.doc : parsed, parsed.st ?? null);
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
  /**
   * Static parts the server holds (this client wrote them, or read them back), with their
   * version. Keyed by the object: fusion keeps a vessel's static object until it changes, so an
   * unchanged one is recognised without comparing fields, and the entry dies with the object.
   */
  private readonly storedStatic = new WeakMap<VesselStatic, number>();

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
    // Only the newest state per vessel (older ones would lose the compare-and-set anyway); on a
    // tie the later one, which may carry newer static data.
    const newest = new Map<number, FusedVesselState>();
    for (const s of states) {
      const seen = newest.get(s.mmsi);
      if (!seen || s.ts >= seen.ts) newest.set(s.mmsi, s);
    }
    const byPartition = new Map<number, FusedVesselState[]>();
    for (const s of newest.values()) {
      if (!Number.isInteger(s.mmsi) || !Number.isInteger(s.partition) || !Number.isFinite(s.ts) || (s.static !== null && !Number.isFinite(s.static.updatedAt))) {
        throw classifyRedisError(new TypeError(`vessel state of mmsi ${s.mmsi} has a non-integer mmsi/partition or a non-finite ts/static time`), 'validating states');
      }
      const list = byPartition.get(s.partition);
      if (list) list.push(s);
      else byPartition.set(s.partition, [s]);
    }
    const calls: Promise<number>[] = [];
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length; i += CAS_CHUNK) calls.push(this.cas(partition, list.length <= CAS_CHUNK ? list : list.slice(i, i + CAS_CHUNK)));
    }
    let written = 0;
    try {
      for (const n of await Promise.all(calls)) written += n;
    } catch (err) {
      throw classifyRedisError(err, 'writing vessel states');
    }
    return { written, stale: states.length - written };
  }

  /**
   * One script call for up to CAS_CHUNK vessels of one partition: the records as ONE argument
   * (cas.lua), so the client encodes one string per call instead of five values and a key per
   * vessel. A static part the server already holds (this client wrote or read that very object)
   * goes as its version only; the few the server turns out to lack (restarted empty, written by
   * another process) are sent again in a second call. Returns the vessels whose document changed.
   */
  private async cas(partition: number, list: readonly FusedVesselState[]): Promise<number> {
    const status = await this.casCall(partition, list, false);
    let changed = 0;
    const again: FusedVesselState[] = [];
    const changedBefore: boolean[] = [];
    for (let i = 0; i < list.length; i++) {
      const code = status.charCodeAt(i) - 48;
      if (code & 1) changed++;
      if (code & 2) {
        again.push(list[i]!);
        changedBefore.push((code & 1) === 1);
      }
    }
    if (again.length > 0) {
      const retry = await this.casCall(partition, again, true);
      // counted once: a vessel whose position changed in the first call is in `changed` already
      for (let i = 0; i < again.length; i++) if (!changedBefore[i] && (retry.charCodeAt(i) - 48) & 1) changed++;
    }
    return changed;
  }

  private async casCall(partition: number, list: readonly FusedVesselState[], sendStatic: boolean): Promise<string> {
    const keys: string[] = new Array(list.length + 2);
    keys[0] = this.keys.geo(partition);
    keys[1] = this.keys.index(partition);
    let payload = '';
    const sent: VesselStatic[] = [];
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      keys[i + 2] = this.keys.vessel(partition, s.mmsi);
      const indexable = s.lat !== null && s.lon !== null && Math.abs(s.lat) <= GEO_MAX_LAT && Math.abs(s.lon) <= 180;
      payload += `${s.mmsi}\t${s.ts}\t${indexable ? s.lon : ''}\t${indexable ? s.lat : ''}\t${positionDocument(s)}\t`;
      const st = s.static;
      if (st === null) payload += '\t\n';
      else {
        const known = sendStatic ? undefined : this.storedStatic.get(st);
        if (known !== undefined) payload += `${known}\t\n`;
        else {
          payload += `${staticVersion(st)}\t${JSON.stringify(st)}\n`;
          sent.push(st);
        }
      }
    }
    const status = await (this.client as unknown as CasCommand).aisflowCas(keys.length, ...keys, this.mode, payload);
    // Stored now, or the server holds a newer static part: either way it need not travel again.
    for (const st of sent) this.storedStatic.set(st, staticVersion(st));
    return status;
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
            for (let n = 0; n < chunk.length; n++) {
              const state = this.mode === 'json' ? fromJsonDocument(chunk[n]!, partition, docs[n] ?? null) : fromHashFields(chunk[n]!, partition, docs[2 * n] ?? null, docs[2 * n + 1] ?? null);
              if (!state) continue;
              if (state.static) this.storedStatic.set(state.static, staticVersion(state.static));
              out.set(chunk[n]!, state);
            }
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
