import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { MigrateEnv } from '../config/store.js';
import { migrate } from '../store/postgres/migrate.js';
import { createLogger } from '../telemetry/logger.js';

/** EX_CONFIG: a bad configuration, told apart from a failed migration (exit 1). */
const EXIT_CONFIG = 78;

/**
 * `aisflow migrate`: applies the Postgres migrations (positions history, vessels, partition
 * functions) in AISFLOW_POSTGRES_SCHEMA. Connects directly to Postgres, not PgBouncer: the
 * migration library holds a session advisory lock so two migrate Jobs cannot interleave.
 * Idempotent: run it before every rollout.
 */
export function register(command: Command): void {
  command
    .option('--down', 'roll back the most recent migration instead of applying pending ones', false)
    .action(async (flags: { down: boolean }) => {
      let config: Readonly<MigrateEnv>;
      try {
        config = loadConfig(MigrateEnv, process.env, { allowUnknown: knownElsewhere(process.env) });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`aisflow migrate: ${err.message}\n`);
          process.exitCode = EXIT_CONFIG;
          return;
        }
        throw err;
      }
      const logger = createLogger({ name: 'migrate', level: config.AISFLOW_LOG_LEVEL });
      try {
        const applied = await migrate({
          url: config.AISFLOW_POSTGRES_URL,
          schema: config.AISFLOW_POSTGRES_SCHEMA,
          direction: flags.down ? 'down' : 'up',
          log: (message) => logger.debug({ migrate: message }, 'migration library'),
        });
        logger.info({ schema: config.AISFLOW_POSTGRES_SCHEMA, direction: flags.down ? 'down' : 'up', applied }, applied.length === 0 ? 'schema is up to date' : 'migrations applied');
      } catch (err) {
        logger.error({ err }, 'migration failed');
        process.exitCode = 1;
      }
    });
}

/**
 * The migrate Job shares the pipeline's ConfigMap, so it sees the other processes' AISFLOW_*
 * variables: those are not typos here. Only variables that look like this command's own
 * (POSTGRES) are checked strictly.
 */
function knownElsewhere(env: Record<string, string | undefined>): string[] {
  return Object.keys(env).filter((name) => name.startsWith('AISFLOW_') && !name.startsWith('AISFLOW_POSTGRES_'));
}
