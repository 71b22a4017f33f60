import { Type } from '@sinclair/typebox';

/**
 * Settings every pipeline process reads alike (docs/configuration.md, "Common to every process").
 * A fragment, as StoreEnvProperties is: each process's schema spreads it into its own
 * Type.Object, so a default such as the partition count lives in one place.
 */
export const NatsEnvProperties = {
  /** NATS server(s), comma-separated */
  AISFLOW_NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222', minLength: 1 }),
  AISFLOW_NATS_STREAM: Type.String({ default: 'AIS', pattern: '^[A-Za-z0-9_-]+$' }),
  AISFLOW_NATS_DLQ_STREAM: Type.String({ default: 'AIS_DLQ', pattern: '^[A-Za-z0-9_-]+$' }),
  AISFLOW_NATS_SUBJECT_PREFIX: Type.String({ default: 'ais', pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' }),
  /** hash(MMSI) mod P picks a record's partition; the stream records the count (shared/stream-partitions.ts) */
  AISFLOW_PARTITIONS: Type.Integer({ minimum: 1, maximum: 4096, default: 16 }),
};

export const LogLevelEnv = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  { default: 'info' },
);
