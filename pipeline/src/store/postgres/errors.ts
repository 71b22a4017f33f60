import { RetryableStoreError, UnrecoverableStoreError } from '../errors.js';

/**
 * SQLSTATE classes (first two characters) whose failures say nothing about the data: the
 * connection, the server or a concurrent transaction got in the way, so the same batch can
 * succeed later. https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const retryableClasses = new Set([
  '08', // connection exception (PgBouncer reports its own pool problems as 08P01 too)
  '40', // transaction rollback: serialization failure, deadlock detected
  '53', // insufficient resources: too many connections, out of memory, disk full
  '55', // object not in prerequisite state: lock not available
  '57', // operator intervention: admin shutdown, crash shutdown, cannot connect now, query canceled
  '58', // system error (I/O)
  'XX', // internal error
  'HV', // foreign data wrapper (not used, but not the record's fault either)
]);

/**
 * Single codes outside those classes that are also not the record's fault: a missing schema or
 * table means migrations have not run yet. Dead-lettering every record would be wrong; waiting
 * with the breaker open until `aisflow migrate` has run is right.
 */
const retryableCodes = new Set(['42P01', '3F000', '3D000', '28000', '28P01']);

/** Maps a node-postgres (or PgBouncer) failure to a store error, keeping it as `cause`. */
export function classifyPgError(err: unknown, what: string): RetryableStoreError | UnrecoverableStoreError {
  if (err instanceof RetryableStoreError || err instanceof UnrecoverableStoreError) return err;
  const sqlstate = sqlStateOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (sqlstate !== null) {
    const retryable = retryableClasses.has(sqlstate.slice(0, 2)) || retryableCodes.has(sqlstate);
    const message = `postgres: ${what} failed (SQLSTATE ${sqlstate}): ${detail}`;
    return retryable ? new RetryableStoreError('postgres', message, { cause: err }) : new UnrecoverableStoreError('postgres', message, { cause: err });
  }
  // Our own programming errors on a value (e.g. a non-finite number) are tied to the record.
  if (err instanceof TypeError || err instanceof RangeError) {
    return new UnrecoverableStoreError('postgres', `postgres: ${what} failed: ${detail}`, { cause: err });
  }
  // No SQLSTATE: the socket (ECONNREFUSED, ECONNRESET), a connect or query timeout, or the
  // connection ending mid-query. The server never judged the data.
  return new RetryableStoreError('postgres', `postgres: ${what} failed: ${detail}`, { cause: err });
}

function sqlStateOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E') ? code : null;
}
