/**
 * npm run bench:stores — store write throughput and client CPU, each write kind next to its raw
 * baseline, in one run (so the ratios stay meaningful on a busy machine):
 *   Redis `writeStates` (Lua compare-and-set, geo + live index) vs plain pipelined HSET of the
 *   same documents, on standalone Redis (6379) and the local 6-node cluster (7101-7106);
 *   Postgres `writeBatch` through PgBouncer (history only: new rows, a redelivery, the same
 *   reports from a second receiver; history with the vessels upsert) vs a plain COPY (text and
 *   binary) into an unindexed table on a direct connection.
 * Every row prints records/s, the client CPU (`cpu`: user + system of this process, which does
 * the encoding, the sockets and the GC) and the servers' CPU (`srv`: Redis from INFO, summed over
 * the cluster's masters; Postgres as every postgres and pgbouncer process in /proc, so other work
 * on a shared machine counts too) per 1000 records. The fusion process is CPU-bound, so `cpu` is
 * the column to watch; records/s also depends on the servers and on the machine's load.
 * One third of the vessels carry static data, as a fleet that has sent type 5/24 reports does.
 * Starts PgBouncer and the cluster with the project scripts if they are not up (and leaves them
 * up). Prints figures only; nothing asserts a timing.
 *
 * Options (env): BENCH_STORES_VESSELS (states per Redis run, default 50000),
 * BENCH_STORES_ROWS (history rows per Postgres run, default 100000), BENCH_STORES_BATCH
 * (records per batch, default 1000), BENCH_STORES_PARTITIONS (default 64),
 * BENCH_STORES_ONLY (comma list of redis-standalone, redis-cluster, postgres; default all).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StaticFields } from '../../pipeline/src/ais/types.js';
import { historyKey } from '../../pipeline/src/fusion/decide.js';
import { fnv1a64 } from '../../pipeline/src/ingest/record.js';
import { cpuSecondsByProcess } from './proc-cpu.js';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import { PostgresHistoryStore } from '../../pipeline/src/store/postgres/history.js';
import { migrate } from '../../pipeline/src/store/postgres/migrate.js';
import { createPgPool } from '../../pipeline/src/store/postgres/pool.js';
import { createRedisClient, type RedisClient } from '../../pipeline/src/store/redis/connection.js';
import { detectDocMode, RedisLiveStateStore } from '../../pipeline/src/store/redis/live-state.js';
import type { FusedVesselState, HistoryRow, VesselUpsert } from '../../pipeline/src/store/types.js';

const VESSELS = Number(process.env.BENCH_STORES_VESSELS ?? 50_000);
const ROWS = Number(process.env.BENCH_STORES_ROWS ?? 100_000);
const BATCH = Number(process.env.BENCH_STORES_BATCH ?? 1_000);
const P = Number(process.env.BENCH_STORES_PARTITIONS ?? 64);
const ONLY = new Set((process.env.BENCH_STORES_ONLY ?? 'redis-standalone,redis-cluster,postgres').split(','));
const DIRECT = 'postgres://postgres@127.0.0.1:5432/postgres';
const BOUNCER = 'postgres://postgres@127.0.0.1:6433/postgres';
/** vessels the history rows belong to (several rows per vessel per run, as in real traffic) */
const HISTORY_VESSELS = 20_000;

/**
 * Runs `fn`, then prints records/s, client CPU ms per 1000 records and, when `serverCpuMs` is
 * given, the servers' CPU ms per 1000 records over the same span.
 */
async function measure<T>(label: string, n: number, fn: () => Promise<T>, extra: (result: T) => string = () => '', serverCpuMs?: () => Promise<number>): Promise<T> {
  const server = await serverCpuMs?.();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const serverUsed = server === undefined ? null : (await serverCpuMs!()) - server;
  const cpuMs = (used.user + used.system) / 1000;
  const rate = `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
  const srv = serverUsed === null ? '' : `  srv ${((serverUsed / n) * 1000).toFixed(1).padStart(5)}`;
  console.log(`  ${label.padEnd(50)} ${String(n).padStart(7)} in ${(ms / 1000).toFixed(2).padStart(6)} s ${rate.padStart(10)}  cpu ${((cpuMs / n) * 1000).toFixed(1).padStart(5)}${srv} ms/1k${extra(result)}`);
  return result;
}

/** CPU time (ms) of the Redis server(s): every master of a cluster. */
async function redisCpuMs(client: RedisClient): Promise<number> {
  const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
  let total = 0;
  for (const node of nodes) {
    const info = await node.info('cpu');
    for (const field of ['used_cpu_sys', 'used_cpu_user']) total += Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0) * 1000;
  }
  return total;
}

/**
 * CPU time (ms) of every postgres and pgbouncer process on the machine (/proc): the server side
 * of the Postgres writes, plus whatever else those servers did meanwhile (a shared machine).
 */
function postgresCpuMs(): Promise<number> {
  let seconds = 0;
  for (const used of cpuSecondsByProcess(['postgres', 'pgbouncer']).values()) seconds += used;
  return Promise.resolve(seconds * 1000);
}

/** Two batches in flight at a time, as fusion keeps two merged writes in flight. */
async function inPairs<T, R>(items: readonly T[], write: (batch: T[]) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += BATCH * 2) {
    out.push(...(await Promise.all([write(items.slice(i, i + BATCH)), ...(i + BATCH < items.length ? [write(items.slice(i + BATCH, i + BATCH * 2))] : [])])));
  }
  return out;
}

function staticOf(mmsi: number, ts: number): StaticFields & { updatedAt: number } {
  return { shipName: `BENCH VESSEL ${mmsi % 10_000}`, callsign: `OZ${mmsi % 1000}`, imo: 9_000_000 + (mmsi % 999_999), shipType: 70, toBow: 100, toStern: 20, toPort: 10, toStarboard: 12, draught: 7.5, destination: 'AARHUS', eta: { month: 5, day: 2, hour: 12, minute: 30 }, updatedAt: ts };
}

/** one static object per vessel across rounds, as fusion keeps a vessel's until it changes */
const statics = new Map<number, ReturnType<typeof staticOf>>();

function states(round: number): FusedVesselState[] {
  const t = 1_700_000_000_000 + round * 60_000;
  return Array.from({ length: VESSELS }, (_, i) => {
    const mmsi = 200_000_000 + i;
    const sources = i % 4 === 0 ? ['bench-rx2', 'bench-rx1'] : ['bench-rx1'];
    return { mmsi, partition: partitionOf(mmsi, P), ts: t + i, lat: 50 + (i % 1000) / 100 + round / 1000, lon: (i % 3600) / 10 - 180, speed: 12.3, course: 45.6, heading: 44, status: 0, msgType: 1, source: sources[0]!, sources, static: i % 3 === 0 ? statics.get(mmsi) ?? statics.set(mmsi, staticOf(mmsi, 1_699_999_000_000)).get(mmsi)! : null };
  });
}

async function benchRedis(label: string, client: RedisClient): Promise<void> {
  const prefix = `bench:stores:${process.pid}:${label}`;
  const store = new RedisLiveStateStore({ client, keyPrefix: prefix, mode: await detectDocMode(client) });
  console.log(`redis ${label} (mode ${store.mode}, ${P} partitions, ${VESSELS} vessels, batches of ${BATCH}, 2 in flight; srv: Redis CPU)`);
  const srv = () => redisCpuMs(client);
  const written = (r: Array<{ written: number }>) => `  (${r.reduce((a, x) => a + x.written, 0)} written)`;
  try {
    for (const round of [0, 1]) {
      const all = states(round);
      await measure(`writeStates (${round === 0 ? 'new vessels' : 'updates'})`, all.length, () => inPairs(all, (b) => store.writeStates(b)), written, srv);
    }
    const again = states(1);
    await measure('writeStates (redelivery: all stale)', again.length, () => inPairs(again, (b) => store.writeStates(b)), written, srv);
    // Baseline: the same documents as plain HSETs, auto-pipelined, no script and no indexes.
    const raw = states(2);
    await measure('baseline: pipelined HSET, no CAS, no geo', raw.length, () =>
      inPairs(raw, (b) => Promise.all(b.map((s) => client.hset(`${prefix}:raw:{${s.partition}}:${s.mmsi}`, 'ts', s.ts, 'doc', JSON.stringify(s))))),
      undefined,
      srv,
    );
  } finally {
    const masters = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
    for (const node of masters) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
        cursor = next;
        await Promise.all(keys.map((k) => node.unlink(k)));
      } while (cursor !== '0');
    }
    await store.close();
  }
}

function historyRows(t: number, source: string): HistoryRow[] {
  return Array.from({ length: ROWS }, (_, i) => {
    const mmsi = 200_000_000 + (i % HISTORY_VESSELS);
    const ts = t + i * 10;
    const report = fnv1a64(`${mmsi}-${ts}-${i}`);
    return { key: historyKey(mmsi, ts, report), report, mmsi, ts, lat: 55.1234 + i / 1e6, lon: 10.5678, speed: 12.3, course: 45.6, heading: i % 7 === 0 ? null : 44, status: 0, msgType: 1, sources: [source] };
  });
}

/** What fusion upserts for a history batch: one row per vessel heard, a fix each, static now and then. */
function vesselsOf(rows: readonly HistoryRow[]): VesselUpsert[] {
  const byMmsi = new Map<number, VesselUpsert>();
  for (const r of rows) {
    byMmsi.set(r.mmsi, {
      mmsi: r.mmsi,
      lastSeen: r.ts,
      fix: { ts: r.ts, lat: r.lat, lon: r.lon, speed: r.speed, course: r.course, heading: r.heading },
      static: r.mmsi % 10 === 0 ? { ts: r.ts, fields: staticOf(r.mmsi, r.ts) } : null,
      sources: r.sources,
    });
  }
  return [...byMmsi.values()].sort((a, b) => a.mmsi - b.mmsi);
}

async function benchPostgres(): Promise<void> {
  const schema = `bench_stores_${process.pid}`;
  await migrate({ url: DIRECT, schema });
  const t = Date.now() - 3_600_000;
  const rows = historyRows(t, 'bench-rx1');
  console.log(`postgres via PgBouncer (${ROWS} rows over ${HISTORY_VESSELS} vessels, batches of ${BATCH}, 2 in flight; srv: all postgres + pgbouncer processes)`);
  try {
    const store = new PostgresHistoryStore({ pool: createPgPool({ url: BOUNCER, max: 2 }), schema });
    await store.maintain({ nowMs: Date.now(), retentionDays: 30 });
    const inserted = (r: Array<{ historyInserted: number; vesselsUpserted: number }>) => `  (${r.reduce((a, x) => a + x.historyInserted, 0)} inserted, ${r.reduce((a, x) => a + x.vesselsUpserted, 0)} vessels)`;
    await measure('writeBatch history only, new rows', rows.length, () => inPairs(rows, (b) => store.writeBatch({ history: b, vessels: [] })), inserted, postgresCpuMs);
    await measure('writeBatch history only, redelivery', rows.length, () => inPairs(rows, (b) => store.writeBatch({ history: b, vessels: [] })), inserted, postgresCpuMs);
    const second = historyRows(t, 'bench-rx2');
    await measure('writeBatch history only, 2nd receiver (credit)', second.length, () => inPairs(second, (b) => store.writeBatch({ history: b, vessels: [] })), inserted, postgresCpuMs);
    const later = historyRows(t + ROWS * 10, 'bench-rx1');
    await measure('writeBatch history + vessels', later.length, () => inPairs(later, (b) => store.writeBatch({ history: b, vessels: vesselsOf(b) })), inserted, postgresCpuMs);
    await store.close();

    // Baseline: plain COPY (text) into a table without keys or partitions, direct connection.
    const client = new pg.Client({ connectionString: DIRECT });
    await client.connect();
    await client.query(`CREATE TABLE "${schema}".copy_baseline (ts_ms bigint, key text, mmsi integer, lat double precision, lon double precision, speed real, course real, heading real, status smallint, msg_type smallint, sources text[])`);
    await measure('baseline: plain COPY (text), no keys, direct', rows.length, async () => {
      for (let i = 0; i < rows.length; i += BATCH) {
        const text = rows
          .slice(i, i + BATCH)
          .map((r) => `${r.ts}\t${r.key}\t${r.mmsi}\t${r.lat}\t${r.lon}\t${r.speed}\t${r.course}\t${r.heading ?? '\\N'}\t${r.status}\t${r.msgType}\t{${r.sources.join(',')}}\n`)
          .join('');
        await pipeline(Readable.from([text]), client.query(copyFrom(`COPY "${schema}".copy_baseline FROM STDIN`)));
      }
    }, undefined, postgresCpuMs);
    // The same with COPY BINARY, to see what the text format costs.
    await client.query(`TRUNCATE "${schema}".copy_baseline`);
    await measure('baseline: plain COPY (binary), no keys, direct', rows.length, async () => {
      for (let i = 0; i < rows.length; i += BATCH) {
        await pipeline(Readable.from([binaryCopy(rows.slice(i, i + BATCH))]), client.query(copyFrom(`COPY "${schema}".copy_baseline FROM STDIN (FORMAT binary)`)));
      }
    }, undefined, postgresCpuMs);
    await client.end();
  } finally {
    const client = new pg.Client({ connectionString: DIRECT });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

/**
 * COPY BINARY rows of the history columns (https://www.postgresql.org/docs/current/sql-copy.html,
 * "Binary Format"): bigint, text, integer, float8 x2, float4 x3, int2 x2, text[].
 */
function binaryCopy(rows: readonly HistoryRow[]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  const field = (b: Buffer | null) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b === null ? -1 : b.length);
    parts.push(len);
    if (b) parts.push(b);
  };
  const i64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
  const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
  const i16 = (n: number | null) => { if (n === null) return null; const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
  const f64 = (n: number) => { const b = Buffer.alloc(8); b.writeDoubleBE(n); return b; };
  const f32 = (n: number | null) => { if (n === null) return null; const b = Buffer.alloc(4); b.writeFloatBE(n); return b; };
  const textArray = (values: readonly string[]) => {
    const elems = values.map((v) => Buffer.from(v, 'utf8'));
    const head = Buffer.alloc(20);
    head.writeInt32BE(1, 0); // dimensions
    head.writeInt32BE(0, 4); // has nulls
    head.writeInt32BE(25, 8); // element type: text
    head.writeInt32BE(values.length, 12);
    head.writeInt32BE(1, 16); // lower bound
    return Buffer.concat([head, ...elems.flatMap((e) => [i32(e.length), e])]);
  };
  for (const r of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(11);
    parts.push(count);
    field(i64(r.ts));
    field(Buffer.from(r.key, 'utf8'));
    field(i32(r.mmsi));
    field(f64(r.lat));
    field(f64(r.lon));
    field(f32(r.speed));
    field(f32(r.course));
    field(f32(r.heading));
    field(i16(r.status));
    field(i16(r.msgType));
    field(textArray(r.sources));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

console.log(`bench:stores — ${new Date().toISOString()}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
execFileSync('bash', ['scripts/services/pgbouncer.sh'], { stdio: 'ignore' });
execFileSync('bash', ['scripts/services/redis-cluster.sh'], { stdio: 'ignore' });
if (ONLY.has('redis-standalone')) await benchRedis('standalone', createRedisClient({ mode: 'standalone', url: 'redis://127.0.0.1:6379', clusterNodes: [], password: null }));
if (ONLY.has('redis-cluster')) await benchRedis('cluster', createRedisClient({ mode: 'cluster', url: '', clusterNodes: ['127.0.0.1:7101', '127.0.0.1:7102', '127.0.0.1:7103'], password: null }));
if (ONLY.has('postgres')) await benchPostgres();
