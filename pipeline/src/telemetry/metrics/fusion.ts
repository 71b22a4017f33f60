import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Fusion decision outcomes: a closed set, so the `outcome` label stays bounded.
 * - accepted: moved the vessel's live position forward
 * - duplicate: the same radio report heard again (by another receiver or redelivered)
 * - out_of_order: older than the live state; kept in history, live position not moved back
 * - implausible: implied speed from the last accepted fix above the bound; dropped, counts against the source
 * - future / stale: report time beyond the clock-skew bound / older than the max age
 * - demoted_source: a demoted source's fresh-enough rival exists; kept in history only
 * - static_merged: static/voyage data (5, 19, 24A/B) merged into the vessel record
 * - invalid: the record does not match the schema (dead-lettered)
 * - ignored: not about a vessel's position or identity (base stations, binary messages, ...)
 */
export const fusionOutcomes = [
  'accepted',
  'duplicate',
  'out_of_order',
  'implausible',
  'future',
  'stale',
  'demoted_source',
  'static_merged',
  'invalid',
  'ignored',
] as const;
export type FusionOutcome = (typeof fusionOutcomes)[number];

export const fusionDlqReasons = ['invalid_record', 'bad_batch', 'store_unrecoverable', 'max_deliveries'] as const;
export type FusionDlqReason = (typeof fusionDlqReasons)[number];

export type FusionStore = 'redis' | 'postgres';

export interface FusionMetrics {
  records: Counter<'outcome'>;
  batches: Counter;
  batchRecords: Histogram;
  partitionsOwned: Gauge;
  partitions: Gauge;
  members: Gauge;
  consumerPending: Gauge<'partition'>;
  endToEndLatency: Histogram;
  lruHits: Counter;
  lruMisses: Counter;
  lruEntries: Gauge;
  storeWriteDuration: Histogram<'store'>;
  storeErrors: Counter<'store'>;
  breakerState: Gauge<'store'>;
  dlqWrites: Counter<'reason'>;
  sourceTrustScore: Gauge<'source'>;
  sourceDemoted: Gauge<'source'>;
  sourceDemotions: Counter<'source'>;
  historyRows: Counter;
  vesselsRejected: Counter<'reason'>;
  vesselsSoftDeleted: Counter;
  redisMode: Gauge<'mode'>;
  /** not in the common catalogue: messages nak'ed for a later retry (store failure, pause) */
  naks: Counter<'reason'>;
  /** not in the common catalogue: live updates published on core NATS for the API's SSE stream */
  updatesPublished: Counter;
  /** message bytes between taking a batch and its ack, against AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES */
  inFlightBytes: Gauge;
  /** batches that waited for the in-flight budget before being decided */
  admissionWaits: Counter;
}

/** Every fusion metric, on the process's own registry (no module singletons). */
export function createFusionMetrics(registry: Registry): FusionMetrics {
  const registers = [registry];
  const records = new Counter({ name: 'aisflow_fusion_records_total', help: 'Records decided, by outcome', labelNames: ['outcome'] as const, registers });
  for (const outcome of fusionOutcomes) records.inc({ outcome }, 0);
  const storeErrors = new Counter({ name: 'aisflow_fusion_store_errors_total', help: 'Failed store writes', labelNames: ['store'] as const, registers });
  const breakerState = new Gauge({ name: 'aisflow_fusion_breaker_state', help: 'Store circuit breaker: 0 closed, 1 half-open, 2 open', labelNames: ['store'] as const, registers });
  for (const store of ['redis', 'postgres'] as const) {
    storeErrors.inc({ store }, 0);
    breakerState.set({ store }, 0);
  }
  const dlqWrites = new Counter({ name: 'aisflow_fusion_dlq_writes_total', help: 'Records dead-lettered by fusion, by reason', labelNames: ['reason'] as const, registers });
  for (const reason of fusionDlqReasons) dlqWrites.inc({ reason }, 0);
  return {
    records,
    batches: new Counter({ name: 'aisflow_fusion_batches_total', help: 'Batches written to both stores and acknowledged', registers }),
    batchRecords: new Histogram({
      name: 'aisflow_fusion_batch_records',
      help: 'Records per processed batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    partitionsOwned: new Gauge({ name: 'aisflow_fusion_partitions_owned', help: 'Partitions this member consumes', registers }),
    // What the owned partitions of all members must add up to (the unowned-partitions alert).
    partitions: new Gauge({ name: 'aisflow_fusion_partitions', help: 'Partitions of the stream (AISFLOW_PARTITIONS), all of which some member must own', registers }),
    members: new Gauge({ name: 'aisflow_fusion_members', help: 'Live fusion members this member sees', registers }),
    consumerPending: new Gauge({
      name: 'aisflow_fusion_consumer_pending_messages',
      help: 'Messages waiting in the partition consumer (JetStream num_pending)',
      labelNames: ['partition'] as const,
      registers,
    }),
    endToEndLatency: new Histogram({
      name: 'aisflow_fusion_end_to_end_latency_seconds',
      help: 'Record receive time (or JetStream publish time) to visible in Redis',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    lruHits: new Counter({ name: 'aisflow_fusion_lru_hits_total', help: 'Vessel state found in the in-process LRU', registers }),
    lruMisses: new Counter({ name: 'aisflow_fusion_lru_misses_total', help: 'Vessel state not in the LRU (read from Redis)', registers }),
    lruEntries: new Gauge({ name: 'aisflow_fusion_lru_entries', help: 'Vessels held in the in-process LRU', registers }),
    storeWriteDuration: new Histogram({
      name: 'aisflow_fusion_store_write_duration_seconds',
      help: 'Duration of one batch write, by store',
      labelNames: ['store'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    storeErrors,
    breakerState,
    dlqWrites,
    sourceTrustScore: new Gauge({ name: 'aisflow_fusion_source_trust_score', help: 'Source trust score, 0..1', labelNames: ['source'] as const, registers }),
    sourceDemoted: new Gauge({ name: 'aisflow_fusion_source_demoted', help: '1 while the source is demoted or recovering', labelNames: ['source'] as const, registers }),
    sourceDemotions: new Counter({ name: 'aisflow_fusion_source_demotions_total', help: 'Times the source was demoted', labelNames: ['source'] as const, registers }),
    historyRows: new Counter({ name: 'aisflow_fusion_history_rows_total', help: 'History rows inserted (new rows only)', registers }),
    vesselsRejected: new Counter({
      name: 'aisflow_fusion_vessels_rejected_total',
      help: 'Vessel upserts the store left out of the vessels table (their history rows are kept), by reason; counted per write, so a redelivered batch counts again',
      labelNames: ['reason'] as const,
      registers,
    }),
    vesselsSoftDeleted: new Counter({ name: 'aisflow_fusion_vessels_soft_deleted_total', help: 'Vessels marked deleted after their silence limit', registers }),
    redisMode: new Gauge({ name: 'aisflow_fusion_redis_mode', help: '1 for the live-state encoding in use (json = RedisJSON, hash otherwise)', labelNames: ['mode'] as const, registers }),
    naks: new Counter({ name: 'aisflow_fusion_naks_total', help: 'JetStream messages handed back for a later retry', labelNames: ['reason'] as const, registers }),
    updatesPublished: new Counter({ name: 'aisflow_fusion_updates_published_total', help: 'Live vessel updates published for the API', registers }),
    inFlightBytes: new Gauge({ name: 'aisflow_fusion_in_flight_bytes', help: 'Bytes of JetStream messages taken and not yet acked or nak\'ed (bounded by AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES)', registers }),
    admissionWaits: new Counter({ name: 'aisflow_fusion_admission_waits_total', help: 'Batches that waited for the in-flight byte budget before being decided', registers }),
  };
}
