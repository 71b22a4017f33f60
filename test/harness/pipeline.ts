import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { baseEnv, cleanData, freePort, localPipelineEnv, spawnAisflow, tail, waitFor, type ManagedChild } from '../../pipeline/src/bin/demo.js';
import type { NatsNames } from '../../pipeline/src/shared/subjects.js';

/**
 * The real pipeline as child processes for tests (nats.js `nst` style): `aisflow migrate`, then
 * `aisflow ingest` replaying a capture once, `aisflow fusion` and `aisflow api`, all under unique
 * names (stream, subject prefix, Redis key prefix, database) so test files run side by side.
 * `stop()` ends every child by PID and removes what the run created.
 */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface RunningPipeline {
  api: string;
  adminToken: string;
  names: NatsNames;
  keyPrefix: string;
  database: string;
  partitions: number;
  children: ManagedChild[];
  ports: { ingest: number; fusion: number; api: number };
  /** waits until ingest has read the whole capture and fusion has no pending messages */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPipeline(options: { capture: string; partitions?: number; logDir?: string }): Promise<RunningPipeline> {
  const id = randomBytes(4).toString('hex');
  const partitions = options.partitions ?? 8;
  const names: NatsNames = { stream: `T_PIPE_${id}`, dlqStream: `T_PIPE_${id}_DLQ`, prefix: `t_pipe_${id}` };
  const keyPrefix = `t:pipe:${id}`;
  const database = `t_pipe_${id}`;
  const adminToken = randomBytes(12).toString('hex');
  const logDir = options.logDir ?? join(repoRoot, '.run', 'test-pipeline', id);
  mkdirSync(logDir, { recursive: true });

  const bouncer = spawnSync('bash', [join(repoRoot, 'scripts/services/pgbouncer.sh')], { encoding: 'utf8' });
  if (bouncer.status !== 0) throw new Error(`pgbouncer.sh failed: ${bouncer.stderr}`);
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();

  const children: ManagedChild[] = [];
  const ports = { ingest: await freePort(), fusion: await freePort(), api: await freePort() };
  const { common, stores } = localPipelineEnv({ names, partitions, keyPrefix, database, logLevel: 'info' });
  const dead = (): string | null => {
    for (const c of children) if (c.process.exitCode !== null && c.name !== 'ingest') return `${c.name} exited (${c.process.exitCode}):\n${tail(c.logFile)}`;
    return null;
  };

  const stop = async (): Promise<void> => {
    for (const c of [...children].reverse()) await c.stop(30_000);
    await cleanData(names, keyPrefix, database);
  };

  try {
    const migrate = spawnAisflow('migrate', ['migrate'], { ...baseEnv(process.env), AISFLOW_POSTGRES_URL: `postgres://postgres@127.0.0.1:5432/${database}` }, join(logDir, 'migrate.log'));
    const code = await migrate.exited;
    if (code !== 0) throw new Error(`aisflow migrate exited ${code}:\n${tail(migrate.logFile)}`);
    children.push(spawnAisflow('ingest', ['ingest', '--file', options.capture, '--source-id', 'capture'], { ...common, AISFLOW_HTTP_PORT: String(ports.ingest) }, join(logDir, 'ingest.log')));
    // Ingest creates the stream; fusion needs it.
    await waitFor('stream created', 150_000, async () => {
      const nc = await connect({ servers: '127.0.0.1:4222' });
      try {
        await (await jetstreamManager(nc)).streams.info(names.stream);
        return true;
      } finally {
        await nc.close();
      }
    }, () => (children[0]!.process.exitCode !== null && children[0]!.process.exitCode !== 0 ? `ingest failed:\n${tail(children[0]!.logFile)}` : null));
    children.push(spawnAisflow('fusion', ['fusion'], { ...common, ...stores, AISFLOW_HTTP_PORT: String(ports.fusion), AISFLOW_MEMBER_ID: `t-${id}` }, join(logDir, 'fusion.log')));
    children.push(spawnAisflow('api', ['api'], { ...common, ...stores, AISFLOW_HTTP_PORT: String(ports.api), AISFLOW_HTTP_HOST: '127.0.0.1', AISFLOW_ADMIN_TOKEN: adminToken }, join(logDir, 'api.log')));
    const api = `http://127.0.0.1:${ports.api}`;
    await waitFor('fusion ready', 120_000, async () => ((await fetch(`http://127.0.0.1:${ports.fusion}/readyz`)).ok ? true : null), dead);
    await waitFor('api ready', 120_000, async () => ((await fetch(`${api}/readyz`)).ok ? true : null), dead);
    return {
      api,
      adminToken,
      names,
      keyPrefix,
      database,
      partitions,
      children,
      ports,
      async settled(timeoutMs = 90_000) {
        await waitFor('ingest finished reading the capture', timeoutMs, async () => (children[0]!.process.exitCode === 0 ? true : null), () =>
          children[0]!.process.exitCode !== null && children[0]!.process.exitCode !== 0 ? `ingest exited ${children[0]!.process.exitCode}:\n${tail(children[0]!.logFile)}` : dead(),
        );
        await waitFor('fusion caught up', timeoutMs, async () => {
          const s = (await (await fetch(`${api}/metrics/summary`)).json()) as { stream: { consumers: number; pending: number; ackPending: number } | null };
          // Every partition's consumer must exist first: before that, "nothing pending" means nothing.
          return s.stream && s.stream.consumers >= partitions && s.stream.pending === 0 && s.stream.ackPending === 0 ? true : null;
        }, dead);
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
