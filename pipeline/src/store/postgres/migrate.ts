import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { classifyPgError } from './errors.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

export interface MigrateOptions {
  /** direct to Postgres, never PgBouncer: node-pg-migrate holds a session advisory lock */
  url: string;
  /** schema to create and migrate @default 'aisflow' */
  schema: string;
  direction?: 'up' | 'down';
  /** log lines from the migration library */
  log?: (message: string) => void;
}

/** Applies (or rolls back) the history/vessels migrations in `schema`; returns the names applied. */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  try {
    const applied = await runner({
      databaseUrl: options.url,
      dir: MIGRATIONS_DIR,
      direction: options.direction ?? 'up',
      schema: options.schema,
      createSchema: true,
      migrationsTable: 'aisflow_migrations',
      singleTransaction: true,
      checkOrder: true,
      log: options.log ?? (() => {}),
      verbose: false,
    });
    return applied.map((m) => m.name);
  } catch (err) {
    throw classifyPgError(err, `migrating schema ${options.schema}`);
  }
}
