import { Type, type Static } from '@sinclair/typebox';
import { LogLevelEnv, NatsEnvProperties } from './common.js';
import type { DecideSettings } from '../fusion/decide.js';
import type { TrustSettings } from '../fusion/trust.js';
import { StoreEnvProperties } from './store.js';

/**
 * Environment of `aisflow fusion` (docs/configuration.md, "fusion"). Read once in bin/fusion.ts
 * with loadConfig(); every default lives here, once, with its unit.
 */
export const FusionEnv = Type.Object({
  ...NatsEnvProperties,
  AISFLOW_HTTP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9465 }),
  AISFLOW_LOG_LEVEL: LogLevelEnv,
  AISFLOW_KEY_PREFIX: Type.String({ default: 'aisflow:dev', minLength: 1 }),
  // Redis, Postgres (through PgBouncer) and history retention, shared with `aisflow api`
  ...StoreEnvProperties,
  /** this member's id in the membership bucket (the pod name); default hostname-pid */
  AISFLOW_MEMBER_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' })),

  /** membership heartbeat period (ms) */
  AISFLOW_FUSION_HEARTBEAT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 1_000 }),
  /** a member whose heartbeat is older than this is dead and its partitions move (ms) */
  AISFLOW_FUSION_MEMBER_TTL_MS: Type.Integer({ minimum: 500, maximum: 600_000, default: 5_000 }),
  /**
   * JetStream messages each partition consumer may hold unacknowledged (max_ack_pending). Under a
   * backlog a member holds this many per owned partition (all 64 when it runs alone, each up to
   * ingest's 256 KiB batch): 32 keeps that bounded, and bench:fusion drained as fast with 32 as
   * with 256 (40-42k against 36-39k records/s, RSS 415-446 against 419-477 MB).
   */
  AISFLOW_FUSION_MAX_ACK_PENDING: Type.Integer({ minimum: 1, maximum: 100_000, default: 32 }),
  /**
   * Bytes of JetStream messages a member holds between pulling and acking, over all its
   * partitions, before it waits to take the next batch: the bound on fusion's working memory
   * under a backlog (~10x this in heap). 4 MiB is ~18,000 records, enough to keep both stores busy.
   */
  AISFLOW_FUSION_MAX_IN_FLIGHT_BYTES: Type.Integer({ minimum: 65_536, maximum: 1_073_741_824, default: 4_194_304 }),
  /**
   * A Postgres write smaller than 2,000 rows waits up to this long for more batches to merge
   * with (ms; 0: none). Postgres is off the path to visible, so this delays acks, not updates,
   * and saves a transaction per batch at a steady rate.
   */
  AISFLOW_FUSION_POSTGRES_LINGER_MS: Type.Integer({ minimum: 0, maximum: 5_000, default: 50 }),
  /** JetStream messages folded into one store write at most */
  AISFLOW_FUSION_BATCH_MAX_MESSAGES: Type.Integer({ minimum: 1, maximum: 10_000, default: 64 }),
  /** unacknowledged messages are redelivered after this (ms) */
  AISFLOW_FUSION_ACK_WAIT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 30_000 }),
  /** a record failing for reasons other than a store outage goes to the DLQ on this delivery */
  AISFLOW_FUSION_MAX_DELIVER: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
  /** delay before a failed message is redelivered (ms) */
  AISFLOW_FUSION_RETRY_DELAY_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 1_000 }),
  /** vessels held in the in-process LRU */
  AISFLOW_FUSION_LRU_SIZE: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 300_000 }),
  /** store circuit breaker: consecutive failures that open it */
  AISFLOW_FUSION_BREAKER_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 3 }),
  /** store circuit breaker: time open before one trial batch (ms) */
  AISFLOW_FUSION_BREAKER_HALF_OPEN_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 2_000 }),
  /** clock-skew bound: reports further in the future are rejected (ms) */
  AISFLOW_FUSION_MAX_FUTURE_SKEW_MS: Type.Integer({ minimum: 0, default: 60_000 }),
  /** reports older than this are rejected as stale (s) */
  AISFLOW_FUSION_MAX_AGE_S: Type.Integer({ minimum: 1, default: 21_600 }),
  /** fastest plausible vessel (knots) */
  AISFLOW_FUSION_MAX_SPEED_KN: Type.Number({ minimum: 1, maximum: 10_000, default: 80 }),
  /** jumps shorter than this are always plausible (m) */
  AISFLOW_FUSION_JITTER_M: Type.Number({ minimum: 0, default: 500 }),
  /** trust score under which a source is demoted */
  AISFLOW_FUSION_DEMOTE_BELOW: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
  /** time without penalties before a demoted source starts to recover (s) */
  AISFLOW_FUSION_TRUST_QUIET_S: Type.Integer({ minimum: 1, default: 300 }),
  /** trust views are written to Redis this often (ms) */
  AISFLOW_FUSION_SOURCES_INTERVAL_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** vessels silent this long are soft-deleted (s) */
  AISFLOW_FUSION_SOFT_DELETE_AFTER_S: Type.Integer({ minimum: 60, default: 86_400 }),
  /** how often the owner of partition 0 runs the soft delete (s) */
  AISFLOW_FUSION_SOFT_DELETE_INTERVAL_S: Type.Integer({ minimum: 1, default: 300 }),
  /** how often the owner of partition 0 creates history partitions ahead and drops expired ones (s) */
  AISFLOW_FUSION_MAINTENANCE_INTERVAL_S: Type.Integer({ minimum: 10, default: 600 }),
  /** on SIGTERM, give up finishing in-flight batches after this (s) */
  AISFLOW_DRAIN_TIMEOUT_S: Type.Integer({ minimum: 1, default: 25 }),
});
export type FusionEnv = Static<typeof FusionEnv>;

export function decideSettingsFrom(env: FusionEnv, defaults: DecideSettings): DecideSettings {
  return {
    ...defaults,
    maxFutureSkewMs: env.AISFLOW_FUSION_MAX_FUTURE_SKEW_MS,
    maxAgeMs: env.AISFLOW_FUSION_MAX_AGE_S * 1000,
    maxSpeedKn: env.AISFLOW_FUSION_MAX_SPEED_KN,
    jitterM: env.AISFLOW_FUSION_JITTER_M,
  };
}

export function trustSettingsFrom(env: FusionEnv, defaults: TrustSettings): TrustSettings {
  return { ...defaults, demoteBelow: env.AISFLOW_FUSION_DEMOTE_BELOW, quietMs: env.AISFLOW_FUSION_TRUST_QUIET_S * 1000 };
}
