import { RetryableStoreError, UnrecoverableStoreError } from '../errors.js';

/**
 * Redis error replies whose first word says the server (or cluster) is not ready, not that the
 * command or data is wrong. https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors
 */
const retryableReplyPrefixes = new Set(['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY', 'MOVED', 'ASK', 'NOREPLICAS', 'OOM']);

/**
 * Maps an ioredis failure to a store error, keeping it as `cause`. An error reply (ioredis
 * `ReplyError`, or a script error) judged the command; anything else (connection refused or
 * closed, "max retries per request", command timeout, cluster with no reachable node) never
 * reached a verdict and is retryable.
 */
export function classifyRedisError(err: unknown, what: string): RetryableStoreError | UnrecoverableStoreError {
  if (err instanceof RetryableStoreError || err instanceof UnrecoverableStoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (name === 'ReplyError') {
    const first = detail.split(/\s/, 1)[0] ?? '';
    if (retryableReplyPrefixes.has(first)) return new RetryableStoreError('redis', `redis: ${what} failed: ${detail}`, { cause: err });
    return new UnrecoverableStoreError('redis', `redis: ${what} failed: ${detail}`, { cause: err });
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    return new UnrecoverableStoreError('redis', `redis: ${what} failed: ${detail}`, { cause: err });
  }
  return new RetryableStoreError('redis', `redis: ${what} failed: ${detail}`, { cause: err });
}
