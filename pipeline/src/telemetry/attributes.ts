/**
 * Span names and attribute keys, in one place (BullMQ `enums/telemetry-attributes.ts`), so a
 * trace reads the same whichever process wrote it and dashboards can rely on the names.
 */
export const SpanAttributes = {
  mmsi: 'aisflow.mmsi',
  partition: 'aisflow.partition',
  source: 'aisflow.source',
  batchRecords: 'aisflow.batch.records',
  store: 'aisflow.store',
  stream: 'aisflow.nats.stream',
  subject: 'messaging.destination.name',
  messagingSystem: 'messaging.system',
  operation: 'messaging.operation.type',
} as const;

export const SpanNames = {
  /** ingest: one record batch published to JetStream (PRODUCER) */
  ingestPublish: 'ingest publish',
  /** fusion: one batch consumed from a partition (CONSUMER, child of the publish via NATS headers) */
  fusionConsume: 'fusion consume',
  /** fusion: the Redis compare-and-set writes of a batch */
  storeRedisWrite: 'store redis write',
  /** fusion: the Postgres history/vessels transaction of a batch */
  storePostgresWrite: 'store postgres write',
} as const;
