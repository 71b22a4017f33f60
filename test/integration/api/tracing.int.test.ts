import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchProcessor } from '../../../pipeline/src/fusion/batch.js';
import { defaultDecideSettings } from '../../../pipeline/src/fusion/decide.js';
import { StateCache } from '../../../pipeline/src/fusion/state-cache.js';
import { TrustTable } from '../../../pipeline/src/fusion/trust.js';
import { BatchPublisher } from '../../../pipeline/src/ingest/publisher.js';
import { fnv1a64 } from '../../../pipeline/src/ingest/record.js';
import type { AisRecordV1 } from '../../../pipeline/src/shared/ais-record.js';
import { systemClock } from '../../../pipeline/src/shared/clock.js';
import { partitionOf } from '../../../pipeline/src/shared/partition.js';
import { subjects, type NatsNames } from '../../../pipeline/src/shared/subjects.js';
import { isRetryableStoreError } from '../../../pipeline/src/store/errors.js';
import { migrate, openFusionStores, type OpenedFusionStores } from '../../../pipeline/src/store/index.js';
import { createLogger } from '../../../pipeline/src/telemetry/logger.js';
import { createFusionMetrics } from '../../../pipeline/src/telemetry/metrics/fusion.js';
import { createIngestMetrics } from '../../../pipeline/src/telemetry/metrics/ingest.js';
import { SpanNames } from '../../../pipeline/src/telemetry/attributes.js';
import { aisflowTracer, startTracing, type TracingHandle } from '../../../pipeline/src/telemetry/tracing.js';

/**
 * One trace across the process boundary: the real ingest BatchPublisher publishes a record batch
 * to JetStream (trace context in the NATS headers), the real fusion BatchProcessor consumes it
 * from a pull consumer and writes the real Redis and Postgres stores. Every span must share one
 * trace id, the consume span must be the publish span's child, and the store-write spans its
 * children.
 */
const exporter = new InMemorySpanExporter();
const PARTITIONS = 8;
const id = randomUUID().slice(0, 8);
const names: NatsNames = { stream: `T_TRACE_${id}`, dlqStream: `T_TRACE_DLQ_${id}`, prefix: `t_trace_${id}` };
const schema = `t_trace_${id}`;
const keyPrefix = `t:trace:${id}`;
const directUrl = 'postgres://postgres@127.0.0.1:5432/test';
let tracing: TracingHandle;
let nc: NatsConnection;
let stores: OpenedFusionStores;

async function pgQuery(sql: string, params: unknown[] = []): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: directUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  tracing = startTracing('aisflow-trace-test', { otlp: null, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  nc = await connect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: names.stream, subjects: [subjects.allPartitions(names)] });
  await jsm.streams.add({ name: names.dlqStream, subjects: [subjects.allDlq(names)] });
  await migrate({ url: directUrl, schema });
  stores = await openFusionStores({
    keyPrefix,
    partitions: PARTITIONS,
    redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379', clusterNodes: [], password: null },
    postgresUrl: directUrl,
    postgresSchema: schema,
  });
  await stores.maintain({ nowMs: Date.now(), retentionDays: 2 });
});

afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(names.stream).catch(() => {});
  await jsm.streams.delete(names.dlqStream).catch(() => {});
  await nc.drain();
  const keys = await stores.live.client.keys(`${keyPrefix}:*`);
  if (keys.length > 0) await stores.live.client.del(...keys);
  await stores.close();
  await pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await tracing.shutdown();
});

describe('trace propagation ingest → NATS → fusion → stores', () => {
  it('keeps one trace id from the publish to the store writes', async () => {
    expect(tracing.enabled).toBe(true);
    const logger = createLogger({ name: 'trace-test', level: 'silent' });
    const js = jetstream(nc);
    const publisher = new BatchPublisher({
      js,
      names,
      partitions: PARTITIONS,
      maxRecords: 100,
      maxBytes: 512 * 1024,
      lingerMs: 10,
      maxInflight: 4,
      timeoutMs: 5_000,
      maxPendingRecords: 10_000,
      runId: `trace-${id}`,
      metrics: createIngestMetrics(new Registry()),
      logger,
    });
    const mmsi = 244670000;
    const partition = partitionOf(mmsi, PARTITIONS);
    const now = Date.now();
    const record: AisRecordV1 = {
      v: 1,
      key: fnv1a64(`k-${id}`),
      src: 'rx-trace',
      rx: now,
      mmsi,
      type: 1,
      msg: { type: 1, repeat: 0, mmsi, status: 0, speed: 10.2, accuracy: true, lon: 4.5, lat: 52.1, course: 90.5, heading: 91, second: new Date(now).getUTCSeconds() },
    };
    publisher.add(record, partition);
    expect(await publisher.drain(10_000)).toBe(0);
    publisher.close();

    // Fusion's side, in the same process: a pull consumer and the real batch processor.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(names.stream, { durable_name: 'trace', ack_policy: 'explicit' as never, filter_subject: subjects.partition(names, partition) });
    const consumer = await js.consumers.get(names.stream, 'trace');
    const msgs: JsMsg[] = [];
    for await (const m of await consumer.fetch({ max_messages: 10, expires: 2_000 })) {
      msgs.push(m);
      if (msgs.length === 1) break;
    }
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.headers?.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const breaker = () => circuitBreaker(handleWhen(isRetryableStoreError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(5) });
    const processor = new BatchProcessor({
      live: stores.live,
      history: stores.history,
      nc,
      js,
      names,
      metrics: createFusionMetrics(new Registry()),
      logger,
      clock: systemClock,
      cache: new StateCache(100),
      trust: new TrustTable(),
      decide: defaultDecideSettings,
      redisBreaker: breaker(),
      postgresBreaker: breaker(),
      maxDeliver: 3,
      retryDelayMs: 100,
    });
    await processor.handle(partition, msgs);
    // handle() returns once Redis has the batch; the Postgres write and the ack follow
    await processor.settled(partition);
    // It really reached both stores.
    const state = (await stores.live.readStates([{ mmsi, partition }])).get(mmsi);
    expect(state).toMatchObject({ mmsi, lat: 52.1, lon: 4.5, source: 'rx-trace' });
    const rows = await pgQuery(`SELECT count(*)::int AS n FROM "${schema}".positions WHERE mmsi = $1`, [mmsi]);
    expect(rows[0]).toEqual({ n: 1 });

    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === SpanNames.ingestPublish) as ReadableSpan;
    expect(publish).toBeDefined();
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    const traceId = publish.spanContext().traceId;
    const consume = spans.find((s) => s.name === 'fusion.batch');
    expect(consume, `spans: ${spans.map((s) => s.name).join(', ')}`).toBeDefined();
    expect(consume!.spanContext().traceId).toBe(traceId);
    expect(consume!.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    const writes = spans.filter((s) => s.name.startsWith('fusion.write.'));
    expect(writes.map((s) => s.name).sort()).toEqual(['fusion.write.postgres', 'fusion.write.redis']);
    for (const w of writes) {
      expect(w.spanContext().traceId).toBe(traceId);
      expect(w.parentSpanContext?.spanId).toBe(consume!.spanContext().spanId);
    }
    // The header carried exactly the publish span's context.
    expect(msgs[0]!.headers?.get('traceparent')).toBe(`00-${traceId}-${publish.spanContext().spanId}-01`);
  });

  it('puts the active trace id on every log line', async () => {
    const lines: string[] = [];
    const logger = createLogger({ name: 'trace-test', destination: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream });
    const span = aisflowTracer().startSpan('log-test');
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    span.end();
    logger.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(outside).not.toHaveProperty('trace_id');
  });
});
