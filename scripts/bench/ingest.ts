/**
 * npm run bench:ingest — file source → decode → batches → JetStream through the real
 * IngestService, against the NATS on AISFLOW_TEST_NATS_URL (default 127.0.0.1:4222).
 * Prints, from the same run:
 *   0. where the time goes: decode-only and record-key hash rates (no NATS; warms the JIT);
 *   1. the baseline: one record per JetStream message, async publish with a window;
 *   2. ingest: records/s and batches/s, file to acknowledged, the process's CPU time (all threads)
 *      and how busy the main thread was (the source's decode worker does the rest), for
 *      BENCH_INGEST_PASSES passes (default 2): the first also warms the JIT of the publish path and
 *      the NATS client, the later ones are closer to a long-running ingest process. Every pass
 *      starts a new service, so its decode worker starts cold each time: the capture is repeated
 *      8 times by default, so that the worker's warm-up (the first ~100k records) is a small part.
 * The streams it creates are deleted at the end. Figures on a shared 2-core box are noisy.
 * Options (env): BENCH_COPIES (capture repetitions, default 8), BENCH_BASELINE_RECORDS (default 60000),
 * BENCH_INFLIGHT (publish window, default 64), BENCH_LINGER_MS (default: that of AISFLOW_BATCH_LINGER_MS),
 * BENCH_PARTITIONS (default: that of AISFLOW_PARTITIONS), BENCH_MAX_PENDING (default 100000),
 * BENCH_INGEST_PASSES (default 2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { createDecoder } from '../../pipeline/src/ais/decoder.js';
import { IngestEnv, parseSourcesDocument } from '../../pipeline/src/config/ingest.js';
import { PUBLISHER_CONNECTION_OPTIONS } from '../../pipeline/src/ingest/publisher.js';
import { IngestService } from '../../pipeline/src/ingest/service.js';
import { ensureStream, recordStreamConfig } from '../../pipeline/src/ingest/streams.js';
import { fnv1a64, toRecord } from '../../pipeline/src/ingest/record.js';
import type { AisRecordV1 } from '../../pipeline/src/shared/ais-record.js';
import { systemClock } from '../../pipeline/src/shared/clock.js';
import { partitionOf } from '../../pipeline/src/shared/partition.js';
import { subjects, type NatsNames } from '../../pipeline/src/shared/subjects.js';
import { createLogger } from '../../pipeline/src/telemetry/logger.js';
import { createIngestMetrics } from '../../pipeline/src/telemetry/metrics/ingest.js';

const url = process.env.AISFLOW_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const copies = Number(process.env.BENCH_COPIES ?? 8);
const baselineRecords = Number(process.env.BENCH_BASELINE_RECORDS ?? 60_000);
const inflight = Number(process.env.BENCH_INFLIGHT ?? 64);
const lingerMs = Number(process.env.BENCH_LINGER_MS ?? IngestEnv.properties.AISFLOW_BATCH_LINGER_MS.default);
const maxPending = Number(process.env.BENCH_MAX_PENDING ?? 100_000);
const passes = Number(process.env.BENCH_INGEST_PASSES ?? 2);
const capturePath = 'pipeline/data/ais/aishub-3min-sample.nmea';
/** the production default unless BENCH_PARTITIONS says otherwise (the figures in docs/ingest.md before it was 16 ran with 64) */
const P = Number(process.env.BENCH_PARTITIONS ?? IngestEnv.properties.AISFLOW_PARTITIONS.default);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const id = randomBytes(3).toString('hex');
const names = (tag: string): NatsNames => ({ stream: `BENCH_${tag}_${id}`, dlqStream: `BENCH_${tag}_${id}_DLQ`, prefix: `bench${tag}${id}` });
const streamLimits = { maxAgeS: 600, maxBytes: 2 * 1024 * 1024 * 1024, duplicateWindowS: 120, replicas: 1 };

const dir = mkdtempSync(join(tmpdir(), 'aisflow-bench-ingest-'));
const capture = readFileSync(capturePath);
const input = join(dir, 'input.nmea');
writeFileSync(input, Buffer.concat(Array.from({ length: copies }, () => capture)));
const lines = capture.toString('latin1').split('\n');

// Records of the capture, for the baseline and the CPU-only figures.
const decoder = createDecoder({ clock: systemClock, defaultSource: 'bench' });
const records: AisRecordV1[] = [];
for (const l of lines) {
  const o = decoder.decode(l, { source: 'bench', receivedAt: Date.now() });
  if (o.kind === 'message') records.push(toRecord(o.message, o.meta));
}

// connected as `aisflow ingest` connects; the baseline shares the connection
const nc = await connect({ servers: url, name: 'bench-ingest', ...PUBLISHER_CONNECTION_OPTIONS });
const jsm = await jetstreamManager(nc);
const created: string[] = [];

try {
  console.log(`bench:ingest — ${capturePath} x${copies} (${fmt(lines.length * copies)} lines), ${P} partitions, NATS ${url}`);

  // 0. CPU-only figures (no NATS), first: they also warm the decoder's JIT for the ingest run.
  {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const d = createDecoder({ clock: systemClock, defaultSource: 'bench' });
    let n = 0;
    let bytes = 0;
    for (let c = 0; c < 2; c++) {
      for (const l of lines) {
        const o = d.decode(l, { source: 'bench', receivedAt: 0 });
        if (o.kind === 'message') {
          bytes += JSON.stringify(toRecord(o.message, o.meta)).length;
          n++;
        }
      }
    }
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cs = (c.user + c.system) / 1e6;
    console.log(`cpu       decode + record + JSON (no NATS): ${fmt(n / s)} records/s, ${fmt(n / cs)} records per CPU-second (avg ${(bytes / n).toFixed(0)} B/record)`);
    const payloads = records.map((r) => `${r.key}${r.mmsi}`);
    let t = performance.now();
    for (let i = 0; i < 400_000; i++) fnv1a64(payloads[i % payloads.length]!);
    const fnvRate = 400_000 / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < 400_000; i++) createHash('sha1').update(payloads[i % payloads.length]!).digest('hex');
    const shaRate = 400_000 / ((performance.now() - t) / 1000);
    console.log(`key       FNV-1a 64 (JS): ${fmt(fnvRate)} keys/s; crypto sha1: ${fmt(shaRate)} keys/s`);
  }
  // 1. Baseline: one record per JetStream message, async publishes with a window of 1000.
  {
    const n = names('single');
    await ensureStream(jsm, recordStreamConfig(n, streamLimits, P));
    created.push(n.stream);
    const js = jetstream(nc);
    const window = 1000;
    const t0 = performance.now();
    let inflight: Promise<unknown>[] = [];
    for (let i = 0; i < baselineRecords; i++) {
      const r = records[i % records.length]!;
      inflight.push(js.publish(subjects.partition(n, partitionOf(r.mmsi, P)), JSON.stringify(r), { msgID: `${id}.${i}` }));
      if (inflight.length >= window) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
    const s = (performance.now() - t0) / 1000;
    console.log(`baseline  single-record publish (window ${window}, Nats-Msg-Id): ${fmt(baselineRecords / s)} records/s  (${fmt(baselineRecords)} in ${s.toFixed(2)} s)`);
  }

  // 2. Ingest: file source through the real service (decode, batch, publish, ack).
  for (let pass = 1; pass <= passes; pass++) {
    const n = names(`ingest${pass}`);
    created.push(n.stream, n.dlqStream);
    const registry = new Registry();
    const metrics = createIngestMetrics(registry);
    const { sources } = parseSourcesDocument(JSON.stringify({ sources: [{ id: 'bench', kind: 'file', address: input }] }));
    const service = new IngestService({
      nc,
      settings: {
        names: n,
        partitions: P,
        stream: streamLimits,
        dlq: { maxAgeS: 600, maxBytes: 256 * 1024 * 1024, replicas: 1 },
        batch: { maxRecords: 1000, maxBytes: 262_144, lingerMs },
        publish: { maxInflight: inflight, timeoutMs: 5000 },
        maxPendingRecords: maxPending,
        maxLineBytes: 4096,
        fragmentTimeoutMs: 5000,
      },
      sources,
      secrets: {},
      metrics,
      logger: createLogger({ name: 'bench', level: 'error' }),
      clock: systemClock,
      runId: `bench-${id}-${pass}`,
    });
    await service.start();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    await service.allFinished();
    const left = await service.stop(60_000);
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const mainBusy = performance.eventLoopUtilization(elu0).utilization;
    const value = async (name: string) => ((await registry.getSingleMetric(name)!.get()).values as Array<{ value: number }>).reduce((a, v) => a + v.value, 0);
    const recs = await value('aisflow_ingest_records_published_total');
    const batches = await value('aisflow_ingest_batches_published_total');
    const dlq = await value('aisflow_ingest_dlq_writes_total');
    const hist = (await registry.getSingleMetric('aisflow_ingest_publish_duration_seconds')!.get()).values;
    const sum = hist.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
    // p99 of the ack latency, as the upper bound of the histogram bucket that holds it.
    const buckets = hist.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket'));
    const total = buckets.at(-1)?.value ?? 0;
    const p99 = buckets.find((b) => b.value >= total * 0.99)?.labels.le;
    console.log(
      `ingest ${pass} file → JetStream (batches ≤1000 records/256 KiB, linger ${lingerMs} ms, ${inflight} in flight, pause at ${fmt(maxPending)} pending): ${fmt(recs / s)} records/s, ${fmt(batches / s)} batches/s` +
        `  (${fmt(recs)} records in ${fmt(batches)} batches, avg ${(recs / batches).toFixed(0)}/batch, ${fmt(dlq)} dead letters, ${s.toFixed(2)} s, avg ack ${((sum / batches) * 1000).toFixed(1)} ms, p99 ack ≤ ${p99} s${left ? `, ${left} NOT ACKED` : ''})`,
    );
    const info = await jsm.streams.info(n.stream);
    console.log(`          stream holds ${fmt(info.state.messages)} messages, ${fmt(info.state.bytes / 1024 / 1024)} MiB`);
    // Below ~100% this process was waiting (on JetStream acks or for CPU taken by others), not working.
    console.log(
      `          ingest process CPU ${cpuS.toFixed(2)} s over ${s.toFixed(2)} s wall (${((cpuS / s) * 100).toFixed(0)}% of one core; main thread busy ${(mainBusy * 100).toFixed(0)}% of the wall time) → ${fmt(recs / cpuS)} records per CPU-second`,
    );
  }

} finally {
  for (const s of created) await jsm.streams.delete(s).catch(() => undefined);
  await nc.close();
  rmSync(dir, { recursive: true, force: true });
}
