import type { ErrorCode } from '../../pipeline/src/shared/errors.js';

/** The operator's codes: the `AISFLOW_ERR_OPERATOR_*` area of the one catalogue (docs/errors.md). */
export type OperatorErrorCode = Extract<ErrorCode, `AISFLOW_ERR_OPERATOR_${string}`>;

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
