/**
 * Operator error codes. They follow the shared `AISFLOW_ERR_<AREA>_<WHAT>` scheme; kept here
 * until they join the catalogue in pipeline/src/shared/errors.ts (listed in docs/operator.md).
 */
export const OperatorErrorCodes = {
  AISFLOW_ERR_OPERATOR_KUBE_API: 'a Kubernetes API call failed',
  AISFLOW_ERR_OPERATOR_CONFLICT: 'the object changed since it was read (409); the pass is retried',
  AISFLOW_ERR_OPERATOR_INVALID_SPEC: 'the AisPipeline spec is invalid; fix the spec, it is not retried',
  AISFLOW_ERR_OPERATOR_EXTERNAL: 'a check or clean-up outside Kubernetes (JetStream, Redis) failed',
  AISFLOW_ERR_REDIS_CLUSTER: 'the Redis Cluster could not be brought to the desired topology',
} as const;

export type OperatorErrorCode = keyof typeof OperatorErrorCodes;

export class OperatorError extends Error {
  constructor(
    readonly code: OperatorErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An HTTP error from the API server, with its status code (404, 409, 410, ...). */
export class KubeApiError extends OperatorError {
  constructor(
    readonly statusCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(statusCode === 409 ? 'AISFLOW_ERR_OPERATOR_CONFLICT' : 'AISFLOW_ERR_OPERATOR_KUBE_API', message, options);
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 409;
