import { Command } from 'commander';

/**
 * `aisflow <command>`: the composition roots of every process. Each command's module is loaded
 * only when it runs, so `aisflow decode` never loads the Kubernetes client, and so on.
 */
const program = new Command('aisflow')
  .description('AIS ingest, fusion, storage and API, run by a Kubernetes operator')
  .showHelpAfterError();

interface CommandModule {
  register(command: Command): void;
}

const commands: Array<[name: string, summary: string, load: () => Promise<CommandModule>]> = [
  ['decode', 'decode NMEA AIS lines to JSON lines (like gpsdecode -j)', () => import('./decode.js')],
  ['ingest', 'read sources, decode, publish record batches to JetStream', () => import('./ingest.js')],
  ['fusion', 'consume partitions, fuse, write Redis and Postgres', () => import('./fusion.js')],
  ['api', 'serve the REST/SSE API, metrics and admin routes', () => import('./api.js')],
  ['migrate', 'apply Postgres migrations', () => import('./migrate.js')],
  ['demo', 'run the whole pipeline locally on the bundled capture', () => import('./demo.js')],
  ['operator', 'run the Kubernetes operator', () => import('./operator.js')],
  ['redis-cluster', 'bootstrap or repair a Redis Cluster (run by the operator as a Job)', () => import('./redis-cluster.js')],
];

const wanted = process.argv[2];
for (const [name, summary, load] of commands) {
  if (name === wanted) {
    const command = program.command(name).description(summary);
    try {
      (await load()).register(command);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
        console.error(`aisflow ${name}: this build does not include the ${name} command`);
        process.exit(2);
      }
      throw err;
    }
  } else {
    // Listed in --help without loading its module.
    program.command(name).description(summary);
  }
}

await program.parseAsync(process.argv);
