import { AisflowError } from '../shared/errors.js';

/**
 * Store failures come in two kinds, and fusion treats them differently (BullMQ's
 * `UnrecoverableError` vs a retry):
 * - RetryableStoreError: the store is unreachable, timed out, overloaded or restarting. Nothing is
 *   wrong with the data; fusion opens its circuit breaker, stops pulling and retries later.
 * - UnrecoverableStoreError: the store rejected the data itself (bad value, constraint, script
 *   error). Retrying the same batch cannot succeed; fusion splits the batch and dead-letters the
 *   poison record.
 * The original driver error is always kept as `cause`.
 */
export class RetryableStoreError extends AisflowError {
  constructor(
    /** which store failed */
    readonly store: 'redis' | 'postgres',
    message: string,
    options?: ErrorOptions,
  ) {
    super('AISFLOW_ERR_STORE_RETRYABLE', message, options);
  }
}

export class UnrecoverableStoreError extends AisflowError {
  constructor(
    readonly store: 'redis' | 'postgres',
    message: string,
    options?: ErrorOptions,
  ) {
    super('AISFLOW_ERR_STORE_UNRECOVERABLE', message, options);
  }
}

export function isRetryableStoreError(err: unknown): err is RetryableStoreError {
  return err instanceof RetryableStoreError;
}

export function isUnrecoverableStoreError(err: unknown): err is UnrecoverableStoreError {
  return err instanceof UnrecoverableStoreError;
}
