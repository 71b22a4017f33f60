import { Type, type Static } from '@sinclair/typebox';

/** The operator's environment (validated once in pipeline/src/bin/operator.ts). */
export const OperatorEnv = Type.Object({
  AISFLOW_HTTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 9466, description: '/metrics, /healthz, /readyz' }),
  AISFLOW_LOG_LEVEL: Type.String({ default: 'info' }),
  /** Namespace of the leader Lease (the operator's own; the chart sets it from the pod). */
  AISFLOW_OPERATOR_NAMESPACE: Type.String({ minLength: 1, default: 'aisflow-system' }),
  /** Watch one namespace only; all namespaces when empty. */
  AISFLOW_OPERATOR_WATCH_NAMESPACE: Type.String({ default: '' }),
  AISFLOW_OPERATOR_LEASE_NAME: Type.String({ minLength: 1, default: 'aisflow-operator' }),
  /** This replica's identity in the Lease (the chart sets the pod name). */
  AISFLOW_OPERATOR_IDENTITY: Type.String({ default: '' }),
  AISFLOW_OPERATOR_LEASE_DURATION_S: Type.Integer({ minimum: 5, maximum: 300, default: 15 }),
  AISFLOW_OPERATOR_RETRY_PERIOD_S: Type.Integer({ minimum: 1, maximum: 60, default: 2 }),
  /** Periodic resync of a ready pipeline, re-checking JetStream streams and Redis slots. */
  AISFLOW_OPERATOR_RESYNC_S: Type.Integer({ minimum: 10, maximum: 86_400, default: 300 }),
  AISFLOW_OPERATOR_WORKERS: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
  /** Connect to NATS and Redis to check streams and slots (needs network access to the pipelines). */
  AISFLOW_OPERATOR_EXTERNAL_CHECKS: Type.Boolean({ default: true }),
  AISFLOW_OPERATOR_NATS_IMAGE: Type.String({ minLength: 1, default: 'nats:2.10.22-alpine' }),
  AISFLOW_OPERATOR_REDIS_IMAGE: Type.String({ minLength: 1, default: 'redis:7.2.5-alpine' }),
  AISFLOW_OPERATOR_POSTGRES_IMAGE: Type.String({ minLength: 1, default: 'postgres:16.4-alpine' }),
  AISFLOW_OPERATOR_PGBOUNCER_IMAGE: Type.String({ minLength: 1, default: 'bitnami/pgbouncer:1.23.1' }),
});

export type OperatorConfig = Static<typeof OperatorEnv>;
