/**
 * npm run bench:fusion — JetStream → fusion → Redis + Postgres (through PgBouncer), with the raw
 * limits of each hop measured in the same run so the figures can be read against this machine:
 *   1. raw JetStream consume (records/s pulled and acked, no work)
 *   2. raw Redis pipeline (HSET per vessel, 1000 per pipeline)
 *   3. raw Postgres COPY through PgBouncer (rows/s into an unlogged table)
 *   4. fusion end to end: records/s from a pre-filled stream to both stores
 *   5. latency at an offered 10,000 records/s: receive time → update published after the Redis write
 *   6. RSS with 250,000 vessels in the LRU
 * Prints figures; asserts nothing. Env: BENCH_RECORDS (default 200000), BENCH_SECONDS (10).
 */
import { performance } from 'node:perf_hooks';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { defaultDecideSettings } from '../../pipeline/src/fusion/decide.js';
import { defaultTrustSettings } from '../../pipeline/src/fusion/trust.js';
import { FusionWorker } from '../../pipeline/src/fusion/worker.js';
import { systemClock } from '../../pipeline/src/shared/clock.js';
import { subjects, type NatsNames } from '../../pipeline/src/shared/subjects.js';
import { openFusionStores } from '../../test/harness/fusion-stores.js';
import { natsUrl, positionRecord, publishRecords, quietLogger, testMetrics, uniqueId } from '../../test/harness/fusion.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PARTITIONS = 16;
const PER_MESSAGE = 250;
const redisUrl = process.env.AISFLOW_REDIS_URL ?? 'redis://127.0.0.1:6379';
const pgbouncerUrl = process.env.AISFLOW_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:6433/postgres';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const line = (name: string, value: string) => console.log(`${name.padEnd(58)} ${value}`);

function fleet(n: number, vessels: number, start: number, baseMmsi: number) {
  return Array.from({ length: n }, (_, i) => {
    const v = i % vessels;
    const k = Math.floor(i / vessels);
    return positionRecord(baseMmsi + v, start + k * 10_000 + (v % 1000), 50 + (v % 300) * 0.01 + k * 0.0005, 3 + Math.floor(v / 300) * 0.01, 'bench', `b${v}-${k}`);
  });
}

async function main() {
  const id = uniqueId('');
  const names: NatsNames = { stream: `BENCH_${id}`, dlqStream: `BENCH_${id}_DLQ`, prefix: `bench${id}` };
  const nc = await connect({ servers: natsUrl, name: 'bench-fusion' });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const streamConfig = (name: string, subj: string) => ({ name, subjects: [subj], storage: StorageType.File });
  await jsm.streams.add(streamConfig(names.stream, subjects.allPartitions(names)));
  await jsm.streams.add(streamConfig(names.dlqStream, subjects.allDlq(names)));
  const cleanups: (() => Promise<unknown>)[] = [
    () => jsm.streams.delete(names.stream),
    () => jsm.streams.delete(names.dlqStream),
    () => jsm.streams.delete(`KV_${names.stream}_fusion_members`).catch(() => undefined),
  ];
  console.log(`bench:fusion  records=${fmt(RECORDS)} partitions=${PARTITIONS} records/message=${PER_MESSAGE} cpus=2 (shared)`);
  try {
    // 1. raw JetStream consume
    const start = Date.now() - 3_600_000;
    const records = fleet(RECORDS, Math.min(50_000, RECORDS), start, 200_000_000);
    let t = performance.now();
    const messages = await publishRecords(nc, names, PARTITIONS, records, PER_MESSAGE);
    line('JetStream publish (baseline)', `${fmt(RECORDS / ((performance.now() - t) / 1000))} records/s (${messages} messages)`);
    await jsm.consumers.add(names.stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 1024 });
    const raw = await js.consumers.get(names.stream, 'raw');
    t = performance.now();
    let seen = 0;
    const iter = await raw.consume({ max_messages: 512 });
    for await (const m of iter) {
      seen += (m.json() as { records: unknown[] }).records.length;
      m.ack();
      if (seen >= RECORDS) break;
    }
    line('raw JetStream consume + JSON parse + ack', `${fmt(seen / ((performance.now() - t) / 1000))} records/s`);
    await jsm.consumers.delete(names.stream, 'raw');

    // 2. raw Redis pipeline
    const redis = new Redis(redisUrl);
    t = performance.now();
    const n = Math.min(RECORDS, 100_000);
    for (let i = 0; i < n; i += 1000) {
      const p = redis.pipeline();
      for (let j = i; j < Math.min(n, i + 1000); j++) p.hset(`bench:${id}:{${j % PARTITIONS}}:v:${j}`, 'ts', String(j), 'lat', '50.1', 'lon', '3.2', 'src', 'bench');
      await p.exec();
    }
    line('raw Redis pipeline HSET (1000/pipeline)', `${fmt(n / ((performance.now() - t) / 1000))} writes/s`);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bench:${id}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();

    // 3. raw Postgres COPY through PgBouncer
    const client = new pg.Client({ connectionString: pgbouncerUrl });
    await client.connect();
    const table = `bench_copy_${id}`;
    await client.query(`CREATE UNLOGGED TABLE ${table} (key text primary key, mmsi int, ts timestamptz, lat double precision, lon double precision, sources text[])`);
    t = performance.now();
    await client.query('BEGIN');
    const rows = Readable.from(
      (function* () {
        for (let i = 0; i < n; i++) yield `k${i}\t${200_000_000 + i}\t2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z\t50.1\t3.2\t{bench}\n`;
      })(),
    );
    await streamPipeline(rows, client.query(copyFrom(`COPY ${table} FROM STDIN`)));
    await client.query('COMMIT');
    line('raw Postgres COPY via PgBouncer (unlogged, with PK)', `${fmt(n / ((performance.now() - t) / 1000))} rows/s`);
    await client.query(`DROP TABLE ${table}`);
    await client.end();

    // 4. fusion end to end, draining the pre-filled stream
    const stores = await openFusionStores({ keyPrefix: `bench:${id}`, schemaTag: `bench_${id}` });
    cleanups.push(() => stores.cleanup());
    line('stores', stores.description);
    const { metrics } = testMetrics();
    const worker = await FusionWorker.start({
      nc, names, partitions: PARTITIONS, memberId: 'bench', heartbeatMs: 1_000, memberTtlMs: 5_000, maxAckPending: 256, ackWaitMs: 30_000,
      batchMaxMessages: 16, retryDelayMs: 500, maxDeliver: 5, lruSize: 300_000,
      decide: { ...defaultDecideSettings, maxAgeMs: 48 * 3_600_000 }, trust: defaultTrustSettings,
      breakerFailures: 5, breakerHalfOpenMs: 1_000, sourcesIntervalMs: 5_000,
      live: stores.live, history: stores.history, metrics, logger: quietLogger(), clock: systemClock,
    });
    t = performance.now();
    const drained = async (target: number) => {
      for (;;) {
        const batches = await metrics.batchRecords.get();
        const sum = batches.values.find((v) => v.metricName === 'aisflow_fusion_batch_records_sum')?.value ?? 0;
        if (sum >= target) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await drained(RECORDS);
    const e2eSeconds = (performance.now() - t) / 1000;
    line('fusion end to end (stream → decide → both stores → ack)', `${fmt(RECORDS / e2eSeconds)} records/s`);
    const sumOf = async (h: { get(): Promise<{ values: { value: number; metricName?: string; labels: Record<string, unknown> }[] }> }, suffix: string, store?: string) =>
      (await h.get()).values.filter((v) => v.metricName?.endsWith(suffix) && (!store || v.labels.store === store)).reduce((a, v) => a + v.value, 0);
    const batchCount = await sumOf(metrics.batchRecords, '_count');
    line('  batches, mean records per batch', `${fmt(batchCount)}, ${fmt(RECORDS / Math.max(1, batchCount))}`);
    for (const store of ['redis', 'postgres']) {
      const total = await sumOf(metrics.storeWriteDuration, '_sum', store);
      const n = await sumOf(metrics.storeWriteDuration, '_count', store);
      line(`  ${store} write: mean per batch, share of wall time`, `${(total / Math.max(1, n) * 1000).toFixed(1)} ms, ${Math.round((total / e2eSeconds) * 100)} %`);
    }

    // 5. latency at an offered 10,000 records/s
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    const sub = nc.subscribe(subjects.allUpdates(names), {
      callback: (_e, m) => {
        const now = Date.now();
        for (const u of m.json() as { mmsi: number; ts: number }[]) {
          const rx = sent.get(`${u.mmsi}:${u.ts}`);
          if (rx !== undefined) latencies.push(now - rx);
        }
      },
    });
    const vessels = 20_000;
    const tickMs = 20;
    const perTick = 200; // 200 per 20 ms = 10,000/s
    const inflight: Promise<unknown>[] = [];
    let i = 0;
    const phaseStart = Date.now();
    const until = phaseStart + SECONDS * 1000;
    while (Date.now() < until) {
      const tickStart = Date.now();
      const batch = [];
      for (let j = 0; j < perTick; j++, i++) {
        const v = i % vessels;
        const rx = Date.now();
        const r = positionRecord(300_000_000 + v, rx, 40 + (v % 300) * 0.01 + i * 1e-7, 5, 'bench', `l${i}`);
        sent.set(`${r.mmsi}:${Math.floor(rx / 1000) * 1000}`, rx);
        batch.push(r);
      }
      // not awaited: the offered rate must not depend on the ack round trip
      inflight.push(publishRecords(nc, names, PARTITIONS, batch, PER_MESSAGE));
      const wait = tickMs - (Date.now() - tickStart);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const offered = i / ((Date.now() - phaseStart) / 1000);
    await Promise.all(inflight);
    await new Promise((r) => setTimeout(r, 2_000));
    sub.unsubscribe();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
    line(`offered ${fmt(offered)} records/s for ${SECONDS} s: p50 / p99 / max`, `${pct(0.5)} / ${pct(0.99)} / ${latencies.at(-1)} ms (${fmt(latencies.length)} updates)`);

    // 6. RSS with 250,000 vessels tracked
    const many = fleet(250_000, 250_000, Date.now() - 600_000, 400_000_000);
    await publishRecords(nc, names, PARTITIONS, many, PER_MESSAGE);
    const before = (await metrics.batchRecords.get()).values.find((v) => v.metricName === 'aisflow_fusion_batch_records_sum')?.value ?? 0;
    await drained(before + many.length);
    many.length = 0;
    records.length = 0;
    global.gc?.();
    const lru = (await metrics.lruEntries.get()).values[0]?.value ?? 0;
    sent.clear();
    latencies.length = 0;
    global.gc?.();
    const mem = process.memoryUsage();
    line('RSS / V8 heap used with the LRU full', `${fmt(mem.rss / 1_048_576)} MB / ${fmt(mem.heapUsed / 1_048_576)} MB (${fmt(lru)} vessels in the LRU; publisher in the same process)`);
    await worker.stop();
  } finally {
    for (const c of cleanups) await c().catch((err: unknown) => console.error('cleanup:', err));
    await nc.drain();
  }
}

await main();
