/**
 * npm run bench:stores — store write throughput, each next to its raw baseline, in one run (so
 * the ratios stay meaningful on a busy machine):
 *   Redis CAS (Lua compare-and-set, geo + live index) vs plain pipelined HSET of the same
 *   documents, on standalone Redis (6379) and the local 6-node cluster (7101-7106);
 *   Postgres history through PgBouncer (COPY into a temp table + idempotent INSERT ... SELECT)
 *   vs a plain COPY into an unindexed table on a direct connection.
 * Starts PgBouncer and the cluster with the project scripts if they are not up (and leaves them
 * up). Prints figures only; nothing asserts a timing.
 *
 * Options (env): BENCH_STORES_VESSELS (states per Redis run, default 50000),
 * BENCH_STORES_ROWS (history rows per Postgres run, default 100000), BENCH_STORES_BATCH
 * (records per batch, default 1000), BENCH_STORES_PARTITIONS (default 64).
 */
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import { PostgresHistoryStore } from '../../pipeline/src/store/postgres/history.js';
import { migrate } from '../../pipeline/src/store/postgres/migrate.js';
import { createPgPool } from '../../pipeline/src/store/postgres/pool.js';
import { createRedisClient, type RedisClient } from '../../pipeline/src/store/redis/connection.js';
import { detectDocMode, RedisLiveStateStore } from '../../pipeline/src/store/redis/live-state.js';
import type { FusedVesselState, HistoryRow } from '../../pipeline/src/store/types.js';

const VESSELS = Number(process.env.BENCH_STORES_VESSELS ?? 50_000);
const ROWS = Number(process.env.BENCH_STORES_ROWS ?? 100_000);
const BATCH = Number(process.env.BENCH_STORES_BATCH ?? 1_000);
const P = Number(process.env.BENCH_STORES_PARTITIONS ?? 64);
const DIRECT = 'postgres://postgres@127.0.0.1:5432/postgres';
const BOUNCER = 'postgres://postgres@127.0.0.1:6433/postgres';

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const line = (label: string, n: number, ms: number, extra = '') => console.log(`  ${label.padEnd(52)} ${String(n).padStart(8)} in ${(ms / 1000).toFixed(2).padStart(6)} s  ${rate(n, ms).padStart(12)}${extra}`);

function states(round: number): FusedVesselState[] {
  const t = 1_700_000_000_000 + round * 60_000;
  return Array.from({ length: VESSELS }, (_, i) => {
    const mmsi = 200_000_000 + i;
    return { mmsi, partition: partitionOf(mmsi, P), ts: t + i, lat: 50 + (i % 1000) / 100, lon: (i % 3600) / 10 - 180, speed: 12.3, course: 45, heading: 44, status: 0, msgType: 1, source: 'bench', sources: ['bench'], static: null };
  });
}

async function benchRedis(label: string, client: RedisClient): Promise<void> {
  const prefix = `bench:stores:${process.pid}:${label}`;
  const store = new RedisLiveStateStore({ client, keyPrefix: prefix, mode: await detectDocMode(client) });
  console.log(`redis ${label} (mode ${store.mode}, ${P} partitions, batches of ${BATCH})`);
  for (const round of [0, 1]) {
    const all = states(round);
    const start = performance.now();
    // Batches in flight two at a time, as fusion keeps a few partitions' batches in flight.
    for (let i = 0; i < all.length; i += BATCH * 2) {
      await Promise.all([store.writeStates(all.slice(i, i + BATCH)), store.writeStates(all.slice(i + BATCH, i + BATCH * 2))]);
    }
    line(`CAS writes (${round === 0 ? 'new vessels' : 'updates'})`, all.length, performance.now() - start);
  }
  // Baseline: the same documents as plain HSETs, auto-pipelined, no script and no indexes.
  const all = states(2);
  const start = performance.now();
  for (let i = 0; i < all.length; i += BATCH * 2) {
    await Promise.all(all.slice(i, i + BATCH * 2).map((s) => client.hset(`${prefix}:raw:{${s.partition}}:${s.mmsi}`, 'ts', s.ts, 'doc', JSON.stringify(s))));
  }
  line('baseline: pipelined HSET, no CAS, no geo', all.length, performance.now() - start);

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

function historyRows(): HistoryRow[] {
  const t = Date.now() - 3_600_000;
  return Array.from({ length: ROWS }, (_, i) => ({ key: `bench-${i.toString(36)}-${process.pid}`, mmsi: 200_000_000 + (i % 20_000), ts: t + i, lat: 55.1234, lon: 10.5678, speed: 12.3, course: 45.6, heading: 44, status: 0, msgType: 1, sources: ['bench-rx1'] }));
}

async function benchPostgres(): Promise<void> {
  const schema = `bench_stores_${process.pid}`;
  await migrate({ url: DIRECT, schema });
  const rows = historyRows();
  console.log(`postgres history (${ROWS} rows, batches of ${BATCH})`);
  try {
    const store = new PostgresHistoryStore({ pool: createPgPool({ url: BOUNCER, max: 2 }), schema });
    await store.maintain({ nowMs: Date.now(), retentionDays: 30 });
    for (const pass of ['new rows', 'redelivery (all conflicts)']) {
      const start = performance.now();
      let inserted = 0;
      for (let i = 0; i < rows.length; i += BATCH * 2) {
        const results = await Promise.all([store.writeBatch({ history: rows.slice(i, i + BATCH), vessels: [] }), store.writeBatch({ history: rows.slice(i + BATCH, i + BATCH * 2), vessels: [] })]);
        for (const r of results) inserted += r.historyInserted;
      }
      line(`writeBatch via PgBouncer, ${pass}`, rows.length, performance.now() - start, `  (${inserted} inserted)`);
    }
    await store.close();

    // Baseline: plain COPY (text) into a table without keys or partitions, direct connection.
    const client = new pg.Client({ connectionString: DIRECT });
    await client.connect();
    await client.query(`CREATE TABLE "${schema}".copy_baseline (ts_ms bigint, key text, mmsi integer, lat double precision, lon double precision, speed real, course real, heading real, status smallint, msg_type smallint, sources text[])`);
    const start = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      const text = rows
        .slice(i, i + BATCH)
        .map((r) => `${r.ts}\t${r.key}\t${r.mmsi}\t${r.lat}\t${r.lon}\t${r.speed}\t${r.course}\t${r.heading}\t${r.status}\t${r.msgType}\t{${r.sources.join(',')}}\n`)
        .join('');
      await pipeline(Readable.from([text]), client.query(copyFrom(`COPY "${schema}".copy_baseline FROM STDIN`)));
    }
    line('baseline: plain COPY (text), no keys, direct', rows.length, performance.now() - start);

    // The same with COPY BINARY, to see what the text format costs us.
    await client.query(`TRUNCATE "${schema}".copy_baseline`);
    const startBinary = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      await pipeline(Readable.from([binaryCopy(rows.slice(i, i + BATCH))]), client.query(copyFrom(`COPY "${schema}".copy_baseline FROM STDIN (FORMAT binary)`)));
    }
    line('baseline: plain COPY (binary), no keys, direct', rows.length, performance.now() - startBinary);
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

console.log(`bench:stores — ${new Date().toISOString()}, node ${process.version}`);
execFileSync('bash', ['scripts/services/pgbouncer.sh'], { stdio: 'ignore' });
execFileSync('bash', ['scripts/services/redis-cluster.sh'], { stdio: 'ignore' });
await benchRedis('standalone', createRedisClient({ mode: 'standalone', url: 'redis://127.0.0.1:6379', clusterNodes: [], password: null }));
await benchRedis('cluster', createRedisClient({ mode: 'cluster', url: '', clusterNodes: ['127.0.0.1:7101', '127.0.0.1:7102', '127.0.0.1:7103'], password: null }));
await benchPostgres();
