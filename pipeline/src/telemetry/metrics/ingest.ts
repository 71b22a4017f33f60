import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every metric of the ingest process (docs/metrics.md, "ingest"). The `source` label is the
 * configured source id, so its values are bounded by the sources document; `type` is the AIS
 * message type (1-27) and `reason` a decoder reject/skip reason or a framer reason: closed sets.
 */
export function createIngestMetrics(registry: Registry) {
  const registers = [registry];
  return {
    lines: new Counter({ name: 'aisflow_ingest_lines_total', help: 'Lines read from a source (before decoding)', labelNames: ['source'] as const, registers }),
    bytes: new Counter({ name: 'aisflow_ingest_bytes_total', help: 'Bytes read from a source', labelNames: ['source'] as const, registers }),
    messages: new Counter({
      name: 'aisflow_ingest_messages_total',
      help: 'AIS messages decoded, by message type',
      labelNames: ['source', 'type'] as const,
      registers,
    }),
    rejects: new Counter({
      name: 'aisflow_ingest_rejects_total',
      help: 'Lines that could not be decoded, by reason (each one is dead-lettered)',
      labelNames: ['source', 'reason'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'aisflow_ingest_skipped_total',
      help: 'Lines skipped on purpose (blank, comment, non-AIS sentence), by reason',
      labelNames: ['source', 'reason'] as const,
      registers,
    }),
    reconnects: new Counter({ name: 'aisflow_ingest_reconnects_total', help: 'Reconnect attempts of a client source', labelNames: ['source'] as const, registers }),
    sourceConnected: new Gauge({ name: 'aisflow_ingest_source_connected', help: '1 while a source is connected or listening', labelNames: ['source'] as const, registers }),
    breakerState: new Gauge({
      name: 'aisflow_ingest_breaker_state',
      help: 'Circuit breaker of a source: 0 closed, 1 half-open, 2 open',
      labelNames: ['source'] as const,
      registers,
    }),
    sourcePaused: new Gauge({
      name: 'aisflow_ingest_source_paused',
      help: '1 while a source is paused because publishing is behind (backpressure)',
      labelNames: ['source'] as const,
      registers,
    }),
    lastMessageTimestamp: new Gauge({
      name: 'aisflow_ingest_last_message_timestamp_seconds',
      help: 'Wall-clock time the last AIS message was decoded from a source',
      labelNames: ['source'] as const,
      registers,
    }),
    batchesPublished: new Counter({ name: 'aisflow_ingest_batches_published_total', help: 'Record batches acknowledged by JetStream', registers }),
    recordsPublished: new Counter({ name: 'aisflow_ingest_records_published_total', help: 'Records in batches acknowledged by JetStream', registers }),
    batchRecords: new Histogram({
      name: 'aisflow_ingest_batch_records',
      help: 'Records per published batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    publishDuration: new Histogram({
      name: 'aisflow_ingest_publish_duration_seconds',
      help: 'Time from sending a batch to its JetStream acknowledgement (the successful attempt)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    publishInflight: new Gauge({ name: 'aisflow_ingest_publish_inflight', help: 'JetStream publishes awaiting their acknowledgement', registers }),
    publishErrors: new Counter({ name: 'aisflow_ingest_publish_errors_total', help: 'Failed publish attempts (each is retried with the same Nats-Msg-Id)', registers }),
    dlqWrites: new Counter({
      name: 'aisflow_ingest_dlq_writes_total',
      help: 'Entries written to the dead-letter stream, by reason',
      labelNames: ['source', 'reason'] as const,
      registers,
    }),
    // Beyond the catalogue: what backpressure acts on.
    pendingRecords: new Gauge({
      name: 'aisflow_ingest_pending_records',
      help: 'Records read but not yet acknowledged by JetStream (in the decode worker, batching, queued and in flight; bytes still being decoded count as one record per 64)',
      registers,
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
