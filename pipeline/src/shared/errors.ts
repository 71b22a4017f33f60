/**
 * The one catalogue of aisflow error codes (fastify `lib/errors.js`, nats.js `jserrors.ts`).
 * Codes are stable: never reuse or rename one; add new codes at the end of their area.
 * docs/errors.md lists every code; a unit test keeps the two in step.
 */
export const ErrorCodes = {
  // configuration
  AISFLOW_ERR_CONFIG_INVALID: 'one or more configuration values are invalid',
  // API
  AISFLOW_ERR_API_BAD_REQUEST: 'the request is malformed',
  AISFLOW_ERR_API_NOT_FOUND: 'the resource does not exist',
  AISFLOW_ERR_API_UNAUTHORIZED: 'a bearer token is required',
  AISFLOW_ERR_API_FORBIDDEN: 'the bearer token is not accepted',
  AISFLOW_ERR_API_DISABLED: 'the route is disabled by configuration',
  AISFLOW_ERR_API_UNAVAILABLE: 'a dependency is unavailable',
  AISFLOW_ERR_API_INVALID_MMSI: 'the MMSI is not exactly 9 digits',
  AISFLOW_ERR_API_INVALID_BBOX: 'the bounding box is malformed or out of range',
  AISFLOW_ERR_API_INVALID_RANGE: 'the time range is malformed, inverted or too wide',
  AISFLOW_ERR_API_CONFIRMATION_REQUIRED: 'a destructive request lacks the right confirmation value',
  AISFLOW_ERR_API_TOO_MANY_CLIENTS: 'the server has as many stream clients as it accepts',
  // NATS / JetStream
  AISFLOW_ERR_NATS_STREAM_CONFLICT: 'the existing stream cannot be changed to the configured settings',
  AISFLOW_ERR_NATS_PUBLISH: 'publishing to JetStream failed',
  AISFLOW_ERR_NATS_PARTITIONS_MISMATCH: 'the record stream is keyed by another partition count than configured',
  // stores
  AISFLOW_ERR_STORE_RETRYABLE: 'a store is temporarily unavailable',
  AISFLOW_ERR_STORE_UNRECOVERABLE: 'a record cannot be stored',
  // fusion (dead-letter reasons)
  AISFLOW_ERR_FUSION_BAD_BATCH: 'a JetStream message is not an AisBatchV1',
  AISFLOW_ERR_FUSION_INVALID_RECORD: 'a record does not match the AisRecordV1 schema',
  // operator
  AISFLOW_ERR_OPERATOR_KUBE_API: 'a Kubernetes API call failed',
  AISFLOW_ERR_OPERATOR_CONFLICT: 'the object changed since it was read (409); the pass is retried',
  AISFLOW_ERR_OPERATOR_INVALID_SPEC: 'the AisPipeline spec is invalid; fix the spec, it is not retried',
  AISFLOW_ERR_OPERATOR_EXTERNAL: 'a check or clean-up outside Kubernetes (JetStream, Redis) failed',
  AISFLOW_ERR_OPERATOR_REDIS_CLUSTER: 'the Redis Cluster could not be brought to the desired topology',
  // internal
  AISFLOW_ERR_INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AisflowError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isAisflowError(err: unknown): err is AisflowError {
  return err instanceof AisflowError;
}
