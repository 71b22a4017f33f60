import { Type } from '@sinclair/typebox';
import { InvalidArgumentError, type Command } from 'commander';
import { ensureCluster, slotCoverage } from '../../../operator/src/redis-cluster/ensure.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../telemetry/logger.js';

/** The password comes from the environment (a Secret), never from the command line. */
const RedisClusterEnv = Type.Object({
  AISFLOW_REDIS_PASSWORD: Type.String({ default: '' }),
  AISFLOW_LOG_LEVEL: Type.String({ default: 'info' }),
});

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative integer`);
  return n;
}

function nodeList(value: string): string[] {
  const nodes = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = nodes.filter((n) => !/^[^:\s]+:\d{1,5}$/.test(n));
  if (bad.length > 0) throw new InvalidArgumentError(`not host:port: ${bad.join(', ')}`);
  return nodes;
}

/**
 * `aisflow redis-cluster ensure|check`: the Redis Cluster state machine the operator runs as a
 * Job (operator/src/redis-cluster/). `ensure` creates, repairs, grows or shrinks the cluster from live
 * `CLUSTER NODES` and exits 0 once every slot is served; `check` only reports coverage.
 */
export function register(command: Command): void {
  command
    .command('ensure')
    .description('create, repair, grow or shrink the cluster to the given members')
    .requiredOption('--nodes <host:port,...>', 'every member, in order (the first ones start as primaries)', nodeList)
    .option('--replicas-per-shard <n>', 'replicas of each primary', nonNegativeInt, 1)
    .option('--leaving <host:port,...>', 'members being removed: their slots move to --nodes, then they are forgotten and reset', nodeList, [])
    .option('--timeout-s <s>', 'give up after this long', nonNegativeInt, 600)
    .action(async (opts: { nodes: string[]; leaving: string[]; replicasPerShard: number; timeoutS: number }) => {
      const env = loadConfig(RedisClusterEnv, process.env, { allowUnknown: Object.keys(process.env).filter((k) => k.startsWith('AISFLOW_')) });
      const logger = createLogger({ name: 'redis-cluster', level: env.AISFLOW_LOG_LEVEL });
      try {
        const result = await ensureCluster({
          nodes: opts.nodes,
          replicasPerShard: opts.replicasPerShard,
          leaving: opts.leaving,
          ...(env.AISFLOW_REDIS_PASSWORD ? { password: env.AISFLOW_REDIS_PASSWORD } : {}),
          timeoutMs: opts.timeoutS * 1000,
          log: (msg, fields) => logger.info(fields ?? {}, msg),
        });
        logger.info({ steps: result.steps }, result.summary);
      } catch (err) {
        logger.error({ err }, 'redis cluster not ready');
        process.exitCode = 1;
      }
    });
  command
    .command('check')
    .description('exit 0 when all 16384 slots are served')
    .requiredOption('--nodes <host:port,...>', 'members to ask', nodeList)
    .action(async (opts: { nodes: string[] }) => {
      const env = loadConfig(RedisClusterEnv, process.env, { allowUnknown: Object.keys(process.env).filter((k) => k.startsWith('AISFLOW_')) });
      const r = await slotCoverage(opts.nodes, env.AISFLOW_REDIS_PASSWORD || undefined);
      console.log(r.message);
      process.exitCode = r.ok ? 0 : 1;
    });
}
