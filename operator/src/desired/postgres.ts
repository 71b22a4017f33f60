import { storageOrDefault } from '../api/v1alpha1/defaults.js';
import type { BuildContext, DesiredObject, Pipeline } from './context.js';
import { PORTS, credentialsSecret, postgresEnv } from './endpoints.js';
import { CONFIG_HASH_ANNOTATION, childName, hashOf, labels, metadata, selectorLabels } from './labels.js';
import { clusterService, containerSecurityContext, envSecret, envValue, execProbe, headlessService, podSecurityContext, pvcTemplate, quantityValue, resources, tmpMount, tmpVolume } from './pod.js';
import { imageOf } from './redis.js';

const POSTGRES_UID = 70; // the postgres user of the alpine images

const MIB = 2 ** 20;

/**
 * The managed Postgres sized to its pipeline and container (the image's defaults assume neither):
 * - max_connections: every PgBouncer pod may open `defaultPoolSize` server connections, plus 20
 *   for the migrate Job (it connects directly), superuser sessions and a human with psql; never
 *   below Postgres's own 100. Too few, and PgBouncer's pools fail with "too many clients".
 * - shared_buffers: a quarter of the memory limit, the usual starting point; the default 128MB
 *   is a sixteenth of the default 2Gi container.
 * - /dev/shm: a memory volume of a quarter of the limit. Parallel queries exchange data through
 *   dynamic shared memory there, and a container's own /dev/shm is 64MB: a large parallel scan
 *   fails with "could not resize shared memory segment".
 */
export function postgresServerSettings(p: Pipeline, memoryLimit: string): { args: string[]; shmSizeLimit: string } {
  const quarterMiB = Math.floor(quantityValue(memoryLimit) / 4 / MIB);
  const maxConnections = Math.max(100, p.spec.pgbouncer.defaultPoolSize * p.spec.pgbouncer.replicas + 20);
  return {
    args: ['postgres', '-c', `max_connections=${maxConnections}`, '-c', `shared_buffers=${quarterMiB}MB`],
    shmSizeLimit: `${quarterMiB}Mi`,
  };
}

/**
 * How the managed Postgres stops. Kubernetes sends SIGTERM whatever the image's STOPSIGNAL, and
 * to Postgres SIGTERM is a smart shutdown: it waits for every client to leave, and PgBouncer's
 * server connections never do, so the pod was killed at the end of its grace period and the next
 * start replayed the WAL. The preStop hook asks for a fast shutdown instead (clients are
 * disconnected, a checkpoint is written) and waits for it.
 */
export const POSTGRES_PRE_STOP = ['sh', '-c', 'pg_ctl stop -D "$PGDATA" -m fast -w -t 50'];
const POSTGRES_TERMINATION_GRACE_S = 60;

/** Managed single-instance Postgres. Nothing when external. */
export function desiredPostgres(p: Pipeline, ctx: BuildContext): DesiredObject[] {
  if (p.spec.postgres.mode !== 'managed') return [];
  const name = childName(p.cr, 'postgres');
  const containerResources = resources(p.spec.postgres.resources, { cpu: '250m', memory: '512Mi', memoryLimit: '2Gi' });
  const server = postgresServerSettings(p, containerResources.limits.memory);
  const sel = selectorLabels(p.cr, 'postgres');
  const ready = execProbe(['pg_isready', '-U', 'aisflow', '-d', 'aisflow', '-h', '127.0.0.1']);
  return [
    headlessService(metadata(p.cr, 'postgres', `${name}-headless`), sel, [{ name: 'postgres', port: PORTS.postgres }]) as DesiredObject,
    clusterService(metadata(p.cr, 'postgres', name), sel, [{ name: 'postgres', port: PORTS.postgres }]) as DesiredObject,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: metadata(p.cr, 'postgres', name),
      spec: {
        serviceName: `${name}-headless`,
        replicas: 1,
        selector: { matchLabels: sel },
        template: {
          metadata: { labels: labels(p.cr, 'postgres') },
          spec: {
            securityContext: podSecurityContext(POSTGRES_UID),
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'postgres',
                image: ctx.images.postgres,
                args: server.args,
                env: [
                  envValue('POSTGRES_USER', 'aisflow'),
                  envValue('POSTGRES_DB', 'aisflow'),
                  envSecret('POSTGRES_PASSWORD', credentialsSecret(p), 'postgres-password'),
                  envValue('PGDATA', '/var/lib/postgresql/data/pgdata'),
                ],
                ports: [{ name: 'postgres', containerPort: PORTS.postgres, protocol: 'TCP' }],
                lifecycle: { preStop: { exec: { command: POSTGRES_PRE_STOP } } },
                readinessProbe: ready,
                livenessProbe: { ...ready, periodSeconds: 30 },
                resources: containerResources,
                securityContext: containerSecurityContext,
                volumeMounts: [
                  { name: 'data', mountPath: '/var/lib/postgresql/data' },
                  { name: 'run', mountPath: '/var/run/postgresql' },
                  { name: 'shm', mountPath: '/dev/shm' },
                  tmpMount,
                ],
              },
            ],
            terminationGracePeriodSeconds: POSTGRES_TERMINATION_GRACE_S,
            volumes: [{ name: 'run', emptyDir: {} }, { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: server.shmSizeLimit } }, tmpVolume],
          },
        },
        volumeClaimTemplates: [pvcTemplate('data', storageOrDefault(p.spec.postgres.storage))],
      },
    },
  ];
}

/** PgBouncer (bitnami image: configured by env, runs as uid 1001). */
export function desiredPgBouncer(p: Pipeline, ctx: BuildContext): DesiredObject[] {
  const name = childName(p.cr, 'pgbouncer');
  const sel = selectorLabels(p.cr, 'pgbouncer');
  const b = p.spec.pgbouncer;
  const direct = postgresEnv(p, 'direct');
  const pick = (n: string) => direct.find((e) => e.name === n)!;
  const env = [
    { ...pick('PGHOST'), name: 'POSTGRESQL_HOST' },
    { ...pick('PGPORT'), name: 'POSTGRESQL_PORT' },
    { ...pick('PGUSER'), name: 'POSTGRESQL_USERNAME' },
    { ...pick('PGPASSWORD'), name: 'POSTGRESQL_PASSWORD' },
    { ...pick('PGDATABASE'), name: 'POSTGRESQL_DATABASE' },
    { ...pick('PGDATABASE'), name: 'PGBOUNCER_DATABASE' },
    envValue('PGBOUNCER_PORT', PORTS.pgbouncer),
    envValue('PGBOUNCER_POOL_MODE', b.poolMode),
    envValue('PGBOUNCER_DEFAULT_POOL_SIZE', b.defaultPoolSize),
    envValue('PGBOUNCER_MAX_CLIENT_CONN', b.maxClientConnections),
  ];
  return [
    clusterService(metadata(p.cr, 'pgbouncer', name), sel, [{ name: 'pgbouncer', port: PORTS.pgbouncer }]) as DesiredObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata(p.cr, 'pgbouncer', name),
      spec: {
        replicas: b.replicas,
        selector: { matchLabels: sel },
        template: {
          metadata: { labels: labels(p.cr, 'pgbouncer'), annotations: { [CONFIG_HASH_ANNOTATION]: hashOf(env) } },
          spec: {
            securityContext: podSecurityContext(1001),
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'pgbouncer',
                image: ctx.images.pgbouncer,
                env,
                ports: [{ name: 'pgbouncer', containerPort: PORTS.pgbouncer, protocol: 'TCP' }],
                readinessProbe: { tcpSocket: { port: 'pgbouncer' }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
                livenessProbe: { tcpSocket: { port: 'pgbouncer' }, periodSeconds: 30, failureThreshold: 3, timeoutSeconds: 3 },
                resources: resources(p.spec.pgbouncer.resources, { cpu: '100m', memory: '64Mi', memoryLimit: '256Mi' }),
                securityContext: containerSecurityContext,
                volumeMounts: [tmpMount, { name: 'conf', mountPath: '/opt/bitnami/pgbouncer/conf' }, { name: 'run', mountPath: '/opt/bitnami/pgbouncer/tmp' }],
              },
            ],
            volumes: [tmpVolume, { name: 'conf', emptyDir: {} }, { name: 'run', emptyDir: {} }],
          },
        },
      },
    },
  ];
}

/**
 * The migration Job (`aisflow migrate`, direct to Postgres: its advisory lock needs a session,
 * which PgBouncer transaction pooling cannot hold). One Job per image: a new version migrates.
 */
export function desiredMigrateJob(p: Pipeline): DesiredObject {
  const image = imageOf(p);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(p.cr, 'migrate', childName(p.cr, `migrate-${hashOf(image)}`)),
    spec: {
      backoffLimit: 10,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: labels(p.cr, 'migrate') },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: podSecurityContext(10001),
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'migrate',
              image,
              imagePullPolicy: p.spec.image.pullPolicy,
              args: ['migrate'],
              env: [...postgresEnv(p, 'direct'), envValue('AISFLOW_LOG_LEVEL', 'info')],
              resources: resources(undefined, { cpu: '50m', memory: '128Mi', memoryLimit: '256Mi' }),
              securityContext: containerSecurityContext,
              volumeMounts: [tmpMount],
            },
          ],
          volumes: [tmpVolume],
        },
      },
    },
  };
}
