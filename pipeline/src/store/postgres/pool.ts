import pg from 'pg';

export interface PostgresPoolOptions {
  /** in a deployment, the PgBouncer address */
  url: string;
  /** connections this process holds at most @default 4 */
  max?: number;
  /** give up connecting after this (ms) @default 5000 */
  connectTimeoutMs?: number;
  /** give up waiting for a query's answer after this (ms; client side) @default 30000 */
  queryTimeoutMs?: number;
}

/**
 * A pg Pool fit for PgBouncer transaction pooling: nothing is configured per session (no
 * statement_timeout start-up parameter, which PgBouncer would refuse; no SET), queries are
 * unnamed (pg never names a statement unless asked), and timeouts are enforced client side.
 */
export function createPgPool(options: PostgresPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    query_timeout: options.queryTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart) must not crash the process; the next
  // checkout gets a fresh connection or a classified error.
  pool.on('error', () => {});
  // The pool covers idle clients only: a checked-out client whose server goes away emits 'error'
  // too, which would end the process unhandled. The query in progress fails and is classified.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
