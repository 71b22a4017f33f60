import { childName } from './labels.js';
import type { Pipeline } from './context.js';
import { envSecret, envValue } from './pod.js';

export const PORTS = { nats: 4222, natsCluster: 6222, natsMonitor: 8222, redis: 6379, redisBus: 16379, postgres: 5432, pgbouncer: 6432, api: 8080, ingestOps: 9464, fusionOps: 9465 } as const;

/** The Secret holding generated credentials (never copied into status or events). */
export const credentialsSecret = (p: Pipeline) => childName(p.cr, 'credentials');

export function svcHost(p: Pipeline, suffix: string): string {
  return `${childName(p.cr, suffix)}.${p.cr.metadata.namespace}.svc`;
}

/** The DNS name of pod `i` of a StatefulSet behind its headless Service. */
export function podHost(p: Pipeline, suffix: string, i: number): string {
  return `${childName(p.cr, suffix)}-${i}.${childName(p.cr, `${suffix}-headless`)}.${p.cr.metadata.namespace}.svc`;
}

/**
 * Stream names and subject prefix. A managed NATS belongs to one pipeline, so the defaults are
 * used; an external NATS may be shared, so names carry the namespace and pipeline name.
 */
export function natsNames(p: Pipeline): { stream: string; dlqStream: string; subjectPrefix: string } {
  if (p.spec.nats.mode === 'managed') return { stream: 'AIS', dlqStream: 'AIS_DLQ', subjectPrefix: 'ais' };
  const token = `${p.cr.metadata.namespace}_${p.cr.metadata.name}`.replace(/[^A-Za-z0-9_]/g, '_');
  return { stream: `AIS_${token}`.toUpperCase(), dlqStream: `AIS_DLQ_${token}`.toUpperCase(), subjectPrefix: `ais-${p.cr.metadata.namespace}-${p.cr.metadata.name}` };
}

export function natsUrlEnv(p: Pipeline) {
  const ext = p.spec.nats.external;
  if (p.spec.nats.mode === 'external' && ext) return envSecret('AISFLOW_NATS_URL', ext.urlSecretRef.name, ext.urlSecretRef.key);
  return envValue('AISFLOW_NATS_URL', `nats://${svcHost(p, 'nats')}:${PORTS.nats}`);
}

export function redisNodes(p: Pipeline): string[] {
  const c = p.spec.redis.cluster ?? { shards: 3, replicasPerShard: 1 };
  return redisNodeRange(p, 0, c.shards * (1 + c.replicasPerShard));
}

/** Redis Cluster members with ordinals from..to-1 (host:port). */
export function redisNodeRange(p: Pipeline, from: number, to: number): string[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => `${podHost(p, 'redis', from + i)}:${PORTS.redis}`);
}

/** Env every process shares: NATS names, partitions, key prefix. */
export function commonEnv(p: Pipeline, httpPort: number) {
  const names = natsNames(p);
  return [
    natsUrlEnv(p),
    envValue('AISFLOW_NATS_STREAM', names.stream),
    envValue('AISFLOW_NATS_DLQ_STREAM', names.dlqStream),
    envValue('AISFLOW_NATS_SUBJECT_PREFIX', names.subjectPrefix),
    envValue('AISFLOW_PARTITIONS', p.spec.fusion.partitions),
    envValue('AISFLOW_HTTP_PORT', httpPort),
    envValue('AISFLOW_KEY_PREFIX', `aisflow:${p.cr.metadata.namespace}:${p.cr.metadata.name}`),
    envValue('AISFLOW_LOG_LEVEL', 'info'),
  ];
}

/** Redis settings of fusion and the API. */
export function redisEnv(p: Pipeline) {
  const r = p.spec.redis;
  if (r.mode === 'external' && r.external) {
    const s = r.external.secretRef.name;
    return [
      envValue('AISFLOW_REDIS_MODE', r.external.mode),
      r.external.mode === 'cluster' ? envSecret('AISFLOW_REDIS_CLUSTER_NODES', s, 'nodes') : envSecret('AISFLOW_REDIS_URL', s, 'url'),
      envSecret('AISFLOW_REDIS_PASSWORD', s, 'password', true),
    ];
  }
  const password = envSecret('AISFLOW_REDIS_PASSWORD', credentialsSecret(p), 'redis-password');
  if (r.mode === 'cluster') {
    return [envValue('AISFLOW_REDIS_MODE', 'cluster'), envValue('AISFLOW_REDIS_CLUSTER_NODES', redisNodes(p).join(',')), password];
  }
  return [envValue('AISFLOW_REDIS_MODE', 'standalone'), envValue('AISFLOW_REDIS_URL', `redis://${svcHost(p, 'redis')}:${PORTS.redis}`), password];
}

/**
 * Postgres credentials as plain variables, then the URL composed by Kubernetes' `$(VAR)`
 * expansion so the password never appears in the pod spec. `via` picks PgBouncer (fusion, api)
 * or the server itself (migrate: advisory locks need a session).
 */
export function postgresEnv(p: Pipeline, via: 'pgbouncer' | 'direct') {
  const pg = p.spec.postgres;
  const external = pg.mode === 'external' && pg.external;
  const secret = external ? pg.external!.secretRef.name : credentialsSecret(p);
  const vars = external
    ? [envSecret('PGUSER', secret, 'username'), envSecret('PGPASSWORD', secret, 'password'), envSecret('PGDATABASE', secret, 'database')]
    : [envValue('PGUSER', 'aisflow'), envSecret('PGPASSWORD', secret, 'postgres-password'), envValue('PGDATABASE', 'aisflow')];
  const hostPort =
    via === 'pgbouncer'
      ? [envValue('PGHOST', svcHost(p, 'pgbouncer')), envValue('PGPORT', PORTS.pgbouncer)]
      : external
        ? [envSecret('PGHOST', secret, 'host'), envSecret('PGPORT', secret, 'port')]
        : [envValue('PGHOST', svcHost(p, 'postgres')), envValue('PGPORT', PORTS.postgres)];
  return [...vars, ...hostPort, envValue('AISFLOW_POSTGRES_URL', 'postgres://$(PGUSER):$(PGPASSWORD)@$(PGHOST):$(PGPORT)/$(PGDATABASE)')];
}
