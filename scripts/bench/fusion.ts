/**
 * npm run bench:fusion — JetStream → fusion → Redis + Postgres (through PgBouncer), with the raw
 * limits of each hop measured in the same run so the figures can be read against this machine:
 *   1. raw JetStream consume (records/s pulled and acked, no work)
 *   2. raw Redis pipeline (HSET per vessel, 1000 per pipeline)
 *   3. raw Postgres COPY through PgBouncer (rows/s into an unlogged table)
 *   4. fusion end to end: records/s from a pre-filled stream to both stores, history kept; over
 *      the whole drain, and sustained: past its first records (as many as the drain has
 *      vessels), once the pipeline is full and every vessel is known
 *   5. latency at an offered 10,000 records/s (paced): receive time → update published after the
 *      Redis write, with the rate the publisher really achieved, and how long each process spent
 *      runnable but waiting for a core meanwhile
 *   6. RSS of the fusion process with 250,000 distinct vessels in its LRU (lruSize 250,000)
 * Phases 4 and 5 also print what fusion allocated, promoted and page-faulted per record
 * (gc-meter.ts): figures the machine's swings move far less than records/s and the p99. First
 * of all it prints a yardstick of the machine's speed (yardstick.ts): runs whose yardsticks
 * differ much cannot be compared, and what the kernel charges for a page fault and a loopback
 * round trip, which a virtual machine can make dear on a day its cores are fast.
 *
 * Like production, three processes: this coordinator (raw limits, orchestration), a fusion
 * process (only the FusionWorker and its stores: its CPU, GC and RSS are fusion's alone) and a
 * publisher process (what ingest does: AisBatchV1 messages to JetStream; in phase 5 it paces the
 * offered rate and measures the latency from the updates fusion publishes).
 * Prints figures; asserts nothing. Env: BENCH_RECORDS (default 200000), BENCH_SECONDS (10),
 * BENCH_RATE (10000), BENCH_BATCH_MESSAGES (default: that of AISFLOW_FUSION_BATCH_MAX_MESSAGES),
 * BENCH_FUSION_MEMBERS (1: fusion processes sharing the partitions; each gets the flags below),
 * BENCH_MAX_ACK_PENDING (default: that of AISFLOW_FUSION_MAX_ACK_PENDING), BENCH_MAX_IN_FLIGHT_BYTES
 * (default: that of AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES), BENCH_PARTITIONS (default: that of
 * AISFLOW_PARTITIONS), BENCH_INGEST_LINGER_MS (default: that of AISFLOW_BATCH_LINGER_MS: the paced
 * phase batches through ingest's publisher with ingest's defaults), BENCH_TICK_MS (2: how often
 * the paced load generator hands the records it owes to that publisher), BENCH_LATENCY_DETAIL
 * (1: the paced phase also prints its p99 per second and its worst partitions),
 * BENCH_POSTGRES_LINGER_MS (default: that of AISFLOW_FUSION_POSTGRES_LINGER_MS), BENCH_PHASES
 * (e2e,latency,rss: the fusion phases to run),
 * BENCH_FUSION_CPU_PROF (a directory: the fusion process writes a --cpu-prof there),
 * BENCH_FUSION_NODE_ARGS (extra node flags for the fusion process, e.g. V8 heap sizes),
 * BENCH_SMAPS (a file: the fusion process copies its /proc/self/smaps there when RSS is taken),
 * BENCH_SETTLE_SECONDS (15: idle time before RSS is taken a second time),
 * BENCH_FUSION_ALLOCATOR (jemalloc, the default when Debian's libjemalloc2 is installed, as in the
 * image scripts/image/Dockerfile; or glibc), BENCH_FUSION_RUNTIME (bundle, the default: the fusion
 * process runs this script bundled to JavaScript as the image runs aisflow; or tsx).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Registry } from 'prom-client';
import { defaultDecideSettings } from '../../pipeline/src/fusion/decide.js';
import { defaultTrustSettings } from '../../pipeline/src/fusion/trust.js';
import { FusionWorker } from '../../pipeline/src/fusion/worker.js';
import { systemClock } from '../../pipeline/src/shared/clock.js';
import { subjects, type NatsNames } from '../../pipeline/src/shared/subjects.js';
import { openFusionStores, type OpenedStores } from '../../test/harness/fusion-stores.js';
import { natsUrl, positionRecord, publishRecords, quietLogger, testMetrics, uniqueId } from '../../test/harness/fusion.js';
import { FusionEnv } from '../../pipeline/src/config/fusion.js';
import { IngestEnv } from '../../pipeline/src/config/ingest.js';
import { BatchPublisher, PUBLISHER_CONNECTION_OPTIONS } from '../../pipeline/src/ingest/publisher.js';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import { createLogger } from '../../pipeline/src/telemetry/logger.js';
import { createIngestMetrics } from '../../pipeline/src/telemetry/metrics/ingest.js';
import { combineGc, formatGc, GcMeter, type GcTotals } from './gc-meter.js';
import { cpuSecondsByProcess, cpuSecondsOfPids, machineCpuSeconds, processesNamed, runQueueWaitSeconds } from './proc-cpu.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
/** the stream's partitions: the production default unless BENCH_PARTITIONS says otherwise */
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? FusionEnv.properties.AISFLOW_PARTITIONS.default);
/** records per message of the pre-filled backlog (phases 4 and 6): a backlog travels in full batches */
const PER_MESSAGE = 250;
/** ingest's batching in the paced phase: the production defaults unless overridden */
const INGEST_LINGER_MS = Number(process.env.BENCH_INGEST_LINGER_MS ?? IngestEnv.properties.AISFLOW_BATCH_LINGER_MS.default);
const RSS_VESSELS = 250_000;
const BATCH_MESSAGES = Number(process.env.BENCH_BATCH_MESSAGES ?? FusionEnv.properties.AISFLOW_FUSION_BATCH_MAX_MESSAGES.default);
/** fusion processes sharing the partitions, as the operator runs `fusion.replicas` (default 2) pods */
const FUSION_MEMBERS = Number(process.env.BENCH_FUSION_MEMBERS ?? 1);
const MAX_IN_FLIGHT_BYTES = Number(process.env.BENCH_MAX_IN_FLIGHT_BYTES ?? FusionEnv.properties.AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES.default);
const POSTGRES_LINGER_MS = Number(process.env.BENCH_POSTGRES_LINGER_MS ?? FusionEnv.properties.AISFLOW_FUSION_POSTGRES_LINGER_MS.default);
const MAX_ACK_PENDING = Number(process.env.BENCH_MAX_ACK_PENDING ?? FusionEnv.properties.AISFLOW_FUSION_MAX_ACK_PENDING.default);
const PHASES = new Set((process.env.BENCH_PHASES ?? 'e2e,latency,rss').split(','));
/** bounded waits: a stuck phase is reported, not waited for forever */
const PHASE_TIMEOUT_MS = 120_000;
/** how long the fusion process idles before its RSS is taken again (BENCH_SETTLE_SECONDS) */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_SECONDS ?? 15) * 1000;
const redisUrl = process.env.AISFLOW_REDIS_URL ?? 'redis://127.0.0.1:6379';
const pgbouncerUrl = process.env.AISFLOW_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:6433/postgres';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const line = (name: string, value: string) => console.log(`${name.padEnd(58)} ${value}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fleet(n: number, vessels: number, start: number, baseMmsi: number) {
  return Array.from({ length: n }, (_, i) => {
    const v = i % vessels;
    const k = Math.floor(i / vessels);
    return positionRecord(baseMmsi + v, start + k * 10_000 + (v % 1000), 50 + (v % 300) * 0.01 + k * 0.0005, 3 + Math.floor(v / 300) * 0.01, 'bench', `b${v}-${k}`);
  });
}

// ---------------------------------------------------------------------------------------------
// IPC between the coordinator and its two children: one request at a time per child.

type Request =
  | { cmd: 'start' }
  | { cmd: 'progress' }
  | { cmd: 'gc' }
  | { cmd: 'memory' }
  | { cmd: 'stop' }
  | { cmd: 'loop-reset' }
  | { cmd: 'loop-delay' }
  | { cmd: 'fill'; records: number; vessels: number; baseMmsi: number; ageMs: number }
  | { cmd: 'paced'; rate: number; seconds: number };

interface Role {
  names: NatsNames;
  id: string;
  /** which fusion member this process is (0..BENCH_FUSION_MEMBERS-1) */
  member?: number;
}

function serve(handler: (req: Request) => Promise<unknown>): void {
  // the coordinator died: do not linger as an orphan
  process.on('disconnect', () => process.exit(1));
  process.on('message', (req: Request) => {
    handler(req).then(
      (result) => process.send!({ ok: true, result }),
      (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
}

/** The fusion process's malloc: the image preloads jemalloc, and RSS depends on it (docs/fusion.md). */
const JEMALLOC = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;
const ALLOCATOR = process.env.BENCH_FUSION_ALLOCATOR ?? (existsSync(JEMALLOC) ? 'jemalloc' : 'glibc');

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The fusion process runs as the image runs aisflow: bundled JavaScript, no tsx loader thread. */
const RUNTIME = process.env.BENCH_FUSION_RUNTIME ?? 'bundle';

let bundlePath: string | undefined;
/** Bundles this script once per run (every fusion member runs the same file). */
function bundleSelf(): string {
  if (bundlePath) return bundlePath;
  const outdir = join(repoRoot, '.run', 'bench-fusion-bundle');
  const built = spawnSync(process.execPath, [join(repoRoot, 'scripts/build/bundle.mjs'), '--outdir', outdir, '--entry', `bench-fusion=${fileURLToPath(import.meta.url)}`], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`bundling the bench failed: ${built.stderr}`);
  bundlePath = join(outdir, 'bench-fusion.mjs');
  return bundlePath;
}

function child(role: 'fusion' | 'publisher', r: Role): { proc: ChildProcess; ask<T>(req: Request): Promise<T> } {
  const prof = process.env.BENCH_FUSION_CPU_PROF;
  const extra = role === 'fusion' ? [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(process.env.BENCH_FUSION_NODE_ARGS ?? '').split(' ').filter(Boolean)] : [];
  const bundled = role === 'fusion' && RUNTIME === 'bundle';
  // without tsx's `--import tsx` for the bundle (the remaining flags, e.g. --expose-gc, stay)
  const inherited = bundled ? process.execArgv.filter((a, i, all) => a !== '--import' && !(all[i - 1] === '--import' && a === 'tsx') && a !== '--import=tsx') : process.execArgv;
  const execArgv = [...inherited, ...extra];
  const env = role === 'fusion' && ALLOCATOR === 'jemalloc' ? { ...process.env, LD_PRELOAD: JEMALLOC } : process.env;
  const proc = fork(bundled ? bundleSelf() : fileURLToPath(import.meta.url), [role, JSON.stringify(r)], { execArgv, env, stdio: 'inherit' });
  let queue = Promise.resolve<unknown>(undefined);
  return {
    proc,
    ask<T>(req: Request): Promise<T> {
      const next = queue.then(
        () =>
          new Promise<T>((resolve, reject) => {
            const onExit = (code: number | null) => reject(new Error(`${role} process exited (${code}) during ${req.cmd}`));
            proc.once('exit', onExit);
            proc.once('message', (m: { ok: boolean; result?: T; error?: string }) => {
              proc.off('exit', onExit);
              if (m.ok) resolve(m.result as T);
              else reject(new Error(`${role} ${req.cmd}: ${m.error}`));
            });
            proc.send(req);
          }),
      );
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The fusion process: a FusionWorker on the real stores, nothing else.

async function fusionProcess(r: Role): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'bench-fusion-worker' });
  let stores: OpenedStores | undefined;
  let worker: FusionWorker | undefined;
  const { metrics } = testMetrics();
  const value = async (h: { get(): Promise<{ values: { value: number; metricName?: string; labels: Record<string, unknown> }[] }> }, suffix: string, store?: string) =>
    (await h.get()).values.filter((v) => (v.metricName ?? '').endsWith(suffix) && (!store || v.labels.store === store)).reduce((a, v) => a + v.value, 0);
  let startedAt = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const gcMeter = new GcMeter();
  gcMeter.start();
  serve(async (req) => {
    switch (req.cmd) {
      case 'start': {
        stores = await openFusionStores({ keyPrefix: `bench:${r.id}`, schemaTag: `bench_${r.id}` });
        startedAt = performance.now();
        worker = await FusionWorker.start({
          nc, names: r.names, partitions: PARTITIONS, memberId: `bench-${r.member ?? 0}`, heartbeatMs: 1_000, memberTtlMs: 5_000, maxAckPending: MAX_ACK_PENDING, ackWaitMs: Number(process.env.BENCH_ACK_WAIT_MS ?? 30_000),
          batchMaxMessages: BATCH_MESSAGES, maxInFlightBytes: MAX_IN_FLIGHT_BYTES, postgresLingerMs: POSTGRES_LINGER_MS, retryDelayMs: 500, maxDeliver: 5, lruSize: RSS_VESSELS,
          decide: { ...defaultDecideSettings, maxAgeMs: 48 * 3_600_000 }, trust: defaultTrustSettings,
          breakerFailures: 5, breakerHalfOpenMs: 1_000, sourcesIntervalMs: 5_000,
          live: stores.live, history: stores.history, metrics, logger: quietLogger(), clock: systemClock,
        });
        return stores.description;
      }
      case 'progress': {
        return {
          done: await value(metrics.batchRecords, '_sum'),
          seconds: (performance.now() - startedAt) / 1000,
          batches: await value(metrics.batchRecords, '_count'),
          redis: { sum: await value(metrics.storeWriteDuration, '_sum', 'redis'), n: await value(metrics.storeWriteDuration, '_count', 'redis') },
          postgres: { sum: await value(metrics.storeWriteDuration, '_sum', 'postgres'), n: await value(metrics.storeWriteDuration, '_count', 'postgres') },
          admissionWaits: await value(metrics.admissionWaits, ''),
          visible: { within50ms: (await metrics.endToEndLatency.get()).values.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === 0.05)?.value ?? 0, n: await value(metrics.endToEndLatency, '_count') },
          cpu: process.cpuUsage(),
        };
      }
      // apart from 'progress', which the drain polls every 20 ms: reading restarts V8's GC
      // profiler and parses its report, work that belongs in no measured phase
      case 'gc':
        return gcMeter.read();
      case 'loop-reset':
        // how long the fusion process's event loop was held up: a GC pause or a long synchronous
        // step delays every partition's next batch and every update at once
        loopDelay.reset();
        loopDelay.enable();
        return null;
      case 'loop-delay': {
        loopDelay.disable();
        return { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      }
      case 'memory': {
        global.gc?.();
        await sleep(200);
        global.gc?.();
        const mem = process.memoryUsage();
        if (process.env.BENCH_SMAPS) writeFileSync(process.env.BENCH_SMAPS, readFileSync('/proc/self/smaps'));
        // VmHWM: the most the process ever held, i.e. the peak of the drain just done
        const peak = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
        // V8's memory reducer and jemalloc's dirty-page decay hand freed pages back ~10 s after a
        // burst: what an idle process holds after that is its steady size with this LRU
        await sleep(SETTLE_MS);
        return { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, lru: await value(metrics.lruEntries, ''), peak, settledRss: process.memoryUsage().rss };
      }
      case 'stop':
        await worker?.stop();
        // the members share the stores: the first one, stopped last, removes them
        if ((r.member ?? 0) === 0) await stores?.cleanup();
        await nc.drain();
        setTimeout(() => process.exit(0), 100);
        return null;
      default:
        throw new Error(`fusion process: unknown command ${req.cmd}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The publisher process: what ingest does, and the latency probe.

async function publisherProcess(r: Role): Promise<void> {
  // connected as ingest connects: the paced phase publishes through ingest's BatchPublisher
  const nc = await connect({ servers: natsUrl, name: 'bench-fusion-publisher', ...PUBLISHER_CONNECTION_OPTIONS });
  serve(async (req) => {
    switch (req.cmd) {
      case 'fill': {
        const t = performance.now();
        const messages = await publishRecords(nc, r.names, PARTITIONS, fleet(req.records, req.vessels, Date.now() - req.ageMs, req.baseMmsi), PER_MESSAGE);
        return { messages, seconds: (performance.now() - t) / 1000 };
      }
      case 'paced':
        return paced(nc, r.names, req.rate, req.seconds);
      case 'stop':
        await nc.drain();
        setTimeout(() => process.exit(0), 100);
        return null;
      default:
        throw new Error(`publisher process: unknown command ${req.cmd}`);
    }
  });
}

/**
 * Offers `rate` records/s for `seconds` through ingest's own BatchPublisher with ingest's
 * defaults (linger, batch limits, publish window): records are grouped per partition exactly as
 * ingest groups them, so the number and size of JetStream messages is what production makes at
 * this rate. Every tick adds what the schedule owes so far (a slow tick is caught up, not lost).
 * Latency: the time a record was handed to the publisher (ingest's receive time, so the linger
 * counts) → the fusion update naming that report.
 */
async function paced(nc: NatsConnection, names: NatsNames, rate: number, seconds: number) {
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  /** the same, for records sent after the first 2 s (the LRU warm: every vessel seen once) */
  const warm: number[] = [];
  let warmFrom = Infinity;
  let phaseStart = Date.now();
  /** BENCH_LATENCY_DETAIL=1: where the tail is, per second of the phase and per partition */
  const detail = process.env.BENCH_LATENCY_DETAIL === '1';
  const bySecond: number[][] = [];
  const byPartition: number[][] = [];
  const sub = nc.subscribe(subjects.allUpdates(names), {
    callback: (_e, m) => {
      const now = Date.now();
      for (const u of m.json() as { mmsi: number; ts: number }[]) {
        const key = `${u.mmsi}:${u.ts}`;
        const rx = sent.get(key);
        if (rx !== undefined) {
          latencies.push(now - rx);
          if (rx >= warmFrom) warm.push(now - rx);
          if (detail) {
            const second = Math.floor((rx - phaseStart) / 1000);
            (bySecond[second] ??= []).push(now - rx);
            (byPartition[partitionOf(u.mmsi, PARTITIONS)] ??= []).push(now - rx);
          }
          sent.delete(key);
        }
      }
    },
  });
  const defaults = IngestEnv.properties;
  const metrics = createIngestMetrics(new Registry());
  const publisher = new BatchPublisher({
    js: jetstream(nc),
    names,
    partitions: PARTITIONS,
    maxRecords: defaults.AISFLOW_BATCH_MAX_RECORDS.default,
    maxBytes: defaults.AISFLOW_BATCH_MAX_BYTES.default,
    lingerMs: INGEST_LINGER_MS,
    maxInflight: defaults.AISFLOW_PUBLISH_MAX_INFLIGHT.default,
    timeoutMs: defaults.AISFLOW_PUBLISH_TIMEOUT_MS.default,
    maxPendingRecords: defaults.AISFLOW_INGEST_MAX_PENDING_RECORDS.default,
    runId: `bench-${process.pid}-${Date.now()}`,
    metrics,
    logger: createLogger({ name: 'bench-publisher', level: 'error' }),
  });
  const vessels = 20_000;
  const tickMs = Number(process.env.BENCH_TICK_MS ?? 2);
  // the generator's own stalls delay both the records it hands over and the updates it reads
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let i = 0;
  phaseStart = Date.now();
  warmFrom = phaseStart + 2_000;
  const until = phaseStart + seconds * 1000;
  while (Date.now() < until) {
    const owed = Math.floor(((Date.now() - phaseStart) / 1000) * rate) - i;
    for (let j = 0; j < owed; j++, i++) {
      const v = i % vessels;
      const rx = Date.now();
      const rec = positionRecord(300_000_000 + v, rx, 40 + (v % 300) * 0.01 + i * 1e-7, 5, 'bench', `l${i}`);
      sent.set(`${rec.mmsi}:${Math.floor(rx / 1000) * 1000}`, rx);
      publisher.add(rec, partitionOf(rec.mmsi, PARTITIONS));
    }
    await sleep(tickMs);
  }
  const offered = i / ((Date.now() - phaseStart) / 1000);
  loopDelay.disable();
  const unacked = await publisher.drain(30_000);
  publisher.close();
  for (let waited = 0; sent.size > 0 && waited < 5_000; waited += 100) await sleep(100);
  sub.unsubscribe();
  const messages = (await metrics.batchesPublished.get()).values[0]?.value ?? 0;
  const pct = (list: number[], p: number) => list.sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(list.length * p))] ?? NaN;
  if (detail) {
    console.log(`  p99 per second of the phase (ms): ${bySecond.map((l) => pct(l, 0.99)).join(' ')}`);
    const worst = byPartition.map((l, p) => ({ p, p99: pct(l, 0.99) })).sort((a, b) => b.p99 - a.p99).slice(0, 8);
    console.log(`  worst partitions by p99 (partition: ms): ${worst.map((w) => `${w.p}: ${w.p99}`).join(', ')}`);
  }
  const loop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  const within50ms = latencies.filter((ms) => ms <= 50).length;
  return { offered, sent: i, unacked, messages, loop, within50ms, seen: latencies.length, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), max: pct(latencies, 1), warmP99: pct(warm, 0.99) };
}

// ---------------------------------------------------------------------------------------------
// The coordinator.

async function rawLimits(nc: NatsConnection, names: NatsNames, id: string, fill: () => Promise<{ messages: number; seconds: number }>): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  // 1. raw JetStream consume of the pre-filled stream (the same messages fusion drains next)
  const published = await fill();
  line('JetStream publish (publisher process)', `${fmt(RECORDS / published.seconds)} records/s (${published.messages} messages)`);
  await jsm.consumers.add(names.stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: 1024 });
  const raw = await js.consumers.get(names.stream, 'raw');
  let t = performance.now();
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
}

/** The servers whose CPU the end-to-end phase also spends, by process name (Linux /proc). */
const SERVERS = ['postgres', 'pgbouncer', 'redis-server', 'nats-server'];

const GC_LINE = '  fusion heap allocated / promoted, page faults per record; scavenges, mark-compacts, share of time in GC';

interface Drained {
  done: number;
  seconds: number;
  batches: number;
  redis: { sum: number; n: number };
  postgres: { sum: number; n: number };
  admissionWaits: number;
  /** fusion's own end-to-end histogram: records visible within 50 ms of their receive time, of n */
  visible: { within50ms: number; n: number };
  cpu: NodeJS.CpuUsage;
}

async function coordinator(): Promise<void> {
  const id = uniqueId('');
  const names: NatsNames = { stream: `BENCH_${id}`, dlqStream: `BENCH_${id}_DLQ`, prefix: `bench${id}` };
  const nc = await connect({ servers: natsUrl, name: 'bench-fusion' });
  const jsm = await jetstreamManager(nc);
  const streamConfig = (name: string, subj: string) => ({ name, subjects: [subj], storage: StorageType.File });
  await jsm.streams.add(streamConfig(names.stream, subjects.allPartitions(names)));
  await jsm.streams.add(streamConfig(names.dlqStream, subjects.allDlq(names)));
  const role: Role = { names, id };
  const publisher = child('publisher', role);
  const members = Array.from({ length: FUSION_MEMBERS }, (_, member) => child('fusion', { ...role, member }));
  const all = <T>(req: Request) => Promise.all(members.map((m) => m.ask<T>(req)));
  /** The members' figures so far, summed. */
  const progress = async (): Promise<Drained> => {
    const each = await all<Drained>({ cmd: 'progress' });
    return {
      done: each.reduce((a, d) => a + d.done, 0),
      seconds: Math.max(...each.map((d) => d.seconds)),
      batches: each.reduce((a, d) => a + d.batches, 0),
      redis: { sum: each.reduce((a, d) => a + d.redis.sum, 0), n: each.reduce((a, d) => a + d.redis.n, 0) },
      postgres: { sum: each.reduce((a, d) => a + d.postgres.sum, 0), n: each.reduce((a, d) => a + d.postgres.n, 0) },
      admissionWaits: each.reduce((a, d) => a + d.admissionWaits, 0),
      visible: { within50ms: each.reduce((a, d) => a + d.visible.within50ms, 0), n: each.reduce((a, d) => a + d.visible.n, 0) },
      cpu: { user: each.reduce((a, d) => a + d.cpu.user, 0), system: each.reduce((a, d) => a + d.cpu.system, 0) },
    };
  };
  /** The members' GC figures so far, summed. */
  const gcTotals = async (): Promise<GcTotals> => {
    const each = await all<GcTotals>({ cmd: 'gc' });
    return each.slice(1).reduce((a, g) => combineGc(a, g, 1), each[0]!);
  };
  /**
   * Waits (bounded) until the members together have written `target` records; `split` is the
   * first progress seen at or past `splitAt` records.
   */
  const drained = async (target: number, splitAt = Infinity): Promise<Drained & { split?: Drained }> => {
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    let split: Drained | undefined;
    for (;;) {
      const sum = await progress();
      if (!split && sum.done >= splitAt && sum.done < target) split = sum;
      if (sum.done >= target || Date.now() > deadline) return { ...sum, split };
      await sleep(20);
    }
  };
  console.log(`bench:fusion  records=${fmt(RECORDS)} partitions=${PARTITIONS} backlog records/message=${PER_MESSAGE} cpus=${availableParallelism()} (shared) fusion members=${FUSION_MEMBERS} malloc=${ALLOCATOR} runtime=${RUNTIME} in-flight=${fmt(MAX_IN_FLIGHT_BYTES / 1024)} KiB postgres-linger=${POSTGRES_LINGER_MS} ms`);
  // Before anything else loads the cores: the figure is per CPU second, but a busy machine also
  // slows a core (caches). Imported here, so the fusion process whose RSS is measured lacks the decoder.
  const { decoderSentencesPerCpuSecond, freshPageTouchMicros, loopbackRoundTripMicros } = await import('./yardstick.js');
  line('machine yardstick: AIS decoder, sentences per CPU second', fmt(decoderSentencesPerCpuSecond()));
  line('  kernel, µs of CPU: fresh page touched / loopback trip', `${freshPageTouchMicros().toFixed(2)} / ${(await loopbackRoundTripMicros()).toFixed(1)}`);
  try {
    const drainVessels = Math.min(50_000, RECORDS);
    await rawLimits(nc, names, id, () => publisher.ask({ cmd: 'fill', records: RECORDS, vessels: drainVessels, baseMmsi: 200_000_000, ageMs: 3_600_000 }));

    // 4. fusion end to end, draining the pre-filled stream
    const serversBefore = cpuSecondsByProcess(SERVERS);
    const gcBefore = await gcTotals();
    line('stores', (await all<string>({ cmd: 'start' }))[0]!);
    let expected = RECORDS;
    const e2e = await drained(expected, drainVessels);
    const gcAfter = await gcTotals();
    const serversAfter = cpuSecondsByProcess(SERVERS);
    line('fusion end to end (stream → decide → both stores → ack)', `${fmt(e2e.done / e2e.seconds)} records/s${e2e.done < expected ? ` (timed out: ${fmt(e2e.done)} of ${fmt(expected)})` : ''}`);
    const cpuSeconds = (e2e.cpu.user + e2e.cpu.system) / 1e6;
    // CPU per record depends far less on what else runs on this shared machine than records/s
    // system time is mostly the loopback TCP stack, run in the sending process's context
    line(
      `  fusion CPU (${FUSION_MEMBERS === 1 ? 'its process' : `${FUSION_MEMBERS} processes`}): cores busy, ms per 1000 records (user + system)`,
      `${(cpuSeconds / e2e.seconds).toFixed(2)}, ${((cpuSeconds * 1e6) / e2e.done).toFixed(1)} ms (${(e2e.cpu.user / e2e.done).toFixed(1)} + ${(e2e.cpu.system / e2e.done).toFixed(1)})`,
    );
    line(
      '  servers CPU: cores busy (ms per 1000 records)',
      SERVERS.map((name) => {
        const used = serversAfter.get(name)! - serversBefore.get(name)!;
        return `${name} ${(used / e2e.seconds).toFixed(2)} (${((used * 1e6) / e2e.done).toFixed(1)})`;
      }).join(', '),
    );
    // The whole drain includes filling the pipeline (nothing is done before the first Postgres
    // commit, ~0.5 s in: a fifth of a 100,000-record drain) and each vessel's first report (a
    // miss in the LRU, a new `vessels` row). Past them every record updates a known vessel, as
    // nearly all do in a long-running system: the sustained rate.
    if (e2e.split) {
      const done = e2e.done - e2e.split.done;
      const seconds = e2e.seconds - e2e.split.seconds;
      const cpu = e2e.cpu.user + e2e.cpu.system - (e2e.split.cpu.user + e2e.split.cpu.system);
      line(`  past the first ${fmt(e2e.split.done)} records (every vessel heard): records/s, fusion ms per 1000`, `${fmt(done / seconds)}, ${(cpu / done).toFixed(1)} ms (${fmt(done)} records)`);
    }
    line('  batches, mean records per batch', `${fmt(e2e.batches)}, ${fmt(e2e.done / Math.max(1, e2e.batches))}`);
    line(GC_LINE, formatGc(combineGc(gcAfter, gcBefore, -1), e2e.done, e2e.seconds));
    for (const store of ['redis', 'postgres'] as const) {
      const s = e2e[store];
      line(`  ${store} write: mean per write, writes, busy share of wall time`, `${((s.sum / Math.max(1, s.n)) * 1000).toFixed(1)} ms, ${fmt(s.n)}, ${Math.round((s.sum / e2e.seconds) * 100)} %`);
    }

    if (PHASES.has('latency')) {
      // 5. latency at an offered RATE records/s
      await all({ cmd: 'loop-reset' });
      const pids = [publisher.proc.pid!, ...members.map((m) => m.proc.pid!)];
      const progressBefore = await progress();
      const pacedGcBefore = await gcTotals();
      const machineBefore = machineCpuSeconds();
      const serversBefore = cpuSecondsByProcess(SERVERS);
      const pidsBefore = cpuSecondsOfPids(pids);
      const waiters: [string, number[]][] = [['load generator', [pids[0]!]], ['fusion', pids.slice(1)], ...processesNamed(SERVERS)];
      const waitsBefore = waiters.map(([, of]) => runQueueWaitSeconds(of));
      const lat = await publisher.ask<{ offered: number; sent: number; unacked: number; messages: number; loop: { p99: number; max: number }; within50ms: number; seen: number; p50: number; p99: number; max: number; warmP99: number }>({ cmd: 'paced', rate: RATE, seconds: SECONDS });
      const loops = await all<{ p50: number; p99: number; max: number }>({ cmd: 'loop-delay' });
      const loop = { p50: Math.max(...loops.map((l) => l.p50)), p99: Math.max(...loops.map((l) => l.p99)), max: Math.max(...loops.map((l) => l.max)) };
      expected += lat.sent;
      line(`offered ${fmt(lat.offered)} records/s (asked ${fmt(RATE)}) for ${SECONDS} s: p50 / p99 / max`, `${lat.p50} / ${lat.p99} / ${lat.max} ms (${fmt(lat.seen)} of ${fmt(lat.sent)} seen; p99 after the first 2 s ${lat.warmP99} ms)`);
      line(
        `  ingest batching (linger ${INGEST_LINGER_MS} ms, ${PARTITIONS} partitions): JetStream messages/s, records per message`,
        `${fmt(lat.messages / SECONDS)}, ${(lat.sent / Math.max(1, lat.messages)).toFixed(1)}${lat.unacked > 0 ? ` (${fmt(lat.unacked)} records never acknowledged)` : ''}`,
      );
      line(`  fusion event-loop delay meanwhile${FUSION_MEMBERS > 1 ? ' (worst member)' : ''}: p50 / p99 / max`, `${loop.p50.toFixed(1)} / ${loop.p99.toFixed(1)} / ${loop.max.toFixed(1)} ms`);
      line('  load generator event-loop delay: p99 / max', `${lat.loop.p99.toFixed(1)} / ${lat.loop.max.toFixed(1)} ms`);
      // The latency is queueing for the two cores: how busy they were, and who kept them busy.
      // The load generator (building records, publishing, receiving every update) is on them too.
      const machine = machineCpuSeconds();
      const waitsAfter = waiters.map(([, of]) => runQueueWaitSeconds(of));
      const pidsAfter = cpuSecondsOfPids(pids);
      const progressAfter = await progress();
      const pacedGcAfter = await gcTotals();
      const serversAfter = cpuSecondsByProcess(SERVERS);
      const wall = (machine.total - machineBefore.total) / 2;
      const cores = (seconds: number) => (wall > 0 ? seconds / wall : NaN).toFixed(2);
      const used = (pid: number) => pidsAfter.get(pid)! - pidsBefore.get(pid)!;
      let servers = 0;
      for (const name of SERVERS) servers += serversAfter.get(name)! - serversBefore.get(name)!;
      line(
        '  cores busy meanwhile (of 2): all / load generator, fusion, servers; steal',
        `${cores(machine.busy - machineBefore.busy)} / ${cores(used(pids[0]!))}, ${cores(pids.slice(1).reduce((a, pid) => a + used(pid), 0))}, ${cores(servers)}; ${cores(machine.steal - machineBefore.steal)}`,
      );
      line('  servers: cores busy', SERVERS.map((name) => `${name} ${cores(serversAfter.get(name)! - serversBefore.get(name)!)}`).join(', '));
      // Runnable but not running: a record's wait that none of the stages' own timings shows
      line(
        '  waiting for a core, ms per second (threads summed)',
        waiters.map(([who], i) => `${who} ${wall > 0 ? Math.round(((waitsAfter[i]! - waitsBefore[i]!) / wall) * 1000) : NaN}`).join(', '),
      );
      const batches = progressAfter.batches - progressBefore.batches;
      const writes = (store: 'redis' | 'postgres') => progressAfter[store].n - progressBefore[store].n;
      line('  fusion batches, records per batch; Redis and Postgres writes per second', `${fmt(batches)}, ${(lat.sent / Math.max(1, batches)).toFixed(1)}; ${fmt(writes('redis') / wall)}, ${fmt(writes('postgres') / wall)}`);
      const visible = { within50ms: progressAfter.visible.within50ms - progressBefore.visible.within50ms, n: progressAfter.visible.n - progressBefore.visible.n };
      line('  visible within 50 ms, by fusion\'s own histogram (Redis written) / by the generator', `${((visible.within50ms / Math.max(1, visible.n)) * 100).toFixed(1)} % / ${((lat.within50ms / Math.max(1, lat.seen)) * 100).toFixed(1)} %`);
      const meanWrite = (store: 'redis' | 'postgres') => (((progressAfter[store].sum - progressBefore[store].sum) / Math.max(1, writes(store))) * 1000).toFixed(1);
      line(GC_LINE, formatGc(combineGc(pacedGcAfter, pacedGcBefore, -1), lat.sent, wall));
      line('  mean Redis / Postgres write; batches that waited for in-flight bytes', `${meanWrite('redis')} / ${meanWrite('postgres')} ms; ${fmt(progressAfter.admissionWaits - progressBefore.admissionWaits)}`);
    }

    if (PHASES.has('rss')) {
      // 6. RSS of the fusion process with RSS_VESSELS distinct vessels in its LRU
      await publisher.ask({ cmd: 'fill', records: RSS_VESSELS, vessels: RSS_VESSELS, baseMmsi: 400_000_000, ageMs: 600_000 });
      expected += RSS_VESSELS;
      const after = await drained(expected);
      const mems = await all<{ rss: number; heapUsed: number; heapTotal: number; external: number; lru: number; peak: number; settledRss: number }>({ cmd: 'memory' });
      mems.forEach((mem, i) => {
        const who = FUSION_MEMBERS === 1 ? 'fusion process' : `fusion member ${i}`;
        line(
          `${who} RSS / V8 heap used / heap total / external, LRU full`,
          `${fmt(mem.rss / 1_048_576)} / ${fmt(mem.heapUsed / 1_048_576)} / ${fmt(mem.heapTotal / 1_048_576)} / ${fmt(mem.external / 1_048_576)} MB (${fmt(mem.lru)} vessels in the LRU${after.done < expected ? `; drain timed out at ${fmt(after.done)} of ${fmt(expected)}` : ''})`,
        );
        line(`  ${who} RSS: peak of the whole run (VmHWM), after idling`, `${fmt(mem.peak / 1_048_576)} MB, ${fmt(mem.settledRss / 1_048_576)} MB after ${SETTLE_MS / 1000} s`);
      });
    }
  } finally {
    // member 0 last: it removes the shared stores
    for (const m of [...members.slice(1), members[0]!]) await m.ask({ cmd: 'stop' }).catch((err: unknown) => console.error('fusion stop:', err));
    await publisher.ask({ cmd: 'stop' }).catch((err: unknown) => console.error('publisher stop:', err));
    for (const s of [names.stream, names.dlqStream, `KV_${names.stream}_fusion_members`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.drain();
  }
}

const [roleName, roleJson] = process.argv.slice(2);
if (roleName === 'fusion') await fusionProcess(JSON.parse(roleJson!) as Role);
else if (roleName === 'publisher') await publisherProcess(JSON.parse(roleJson!) as Role);
else await coordinator();
