import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pgBouncerUrl } from './pgbouncer.js';

/** Direct Postgres (migrations need a session); everything else goes through PgBouncer. */
export const POSTGRES_DIRECT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const POSTGRES_BOUNCER_URL = pgBouncerUrl('postgres');

/** A schema name of our own, so test files can run in parallel in one database. */
export function uniqueSchema(label: string): string {
  return `t_${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_DIRECT_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deadlocks Postgres has detected in a database since statistics were last reset. */
export async function deadlockCount(database = 'postgres'): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_DIRECT_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0]?.deadlocks ?? 0);
  } finally {
    await client.end();
  }
}
