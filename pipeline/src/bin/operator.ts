import type { Command } from 'commander';
import { OperatorEnv } from '../../../operator/src/config.js';
import { runOperator } from '../../../operator/src/main.js';
import { loadConfig } from '../config/load-config.js';

/** `aisflow operator`: validates the environment once, then hands over to operator/src/main.ts. */
export function register(command: Command): void {
  command.action(async () => {
    const config = loadConfig(OperatorEnv, process.env);
    const operator = await runOperator(config);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void operator.stop().then(() => process.exit(process.exitCode ?? 0));
      });
    }
  });
}
