import type { AisPipeline } from '../api/v1alpha1/aispipeline.schema.js';
import { withDefaults } from '../api/v1alpha1/defaults.js';
import { desiredApi, desiredFusion, desiredIngest, desiredMetricsServices } from './apps.js';
import type { BuildContext, DesiredObject, Pipeline } from './context.js';
import { credentialsSecret } from './endpoints.js';
import { metadata } from './labels.js';
import { desiredMonitoring } from './monitoring.js';
import { desiredNats } from './nats.js';
import { desiredAutoscaler, desiredNetworkPolicies, desiredPdbs } from './policy.js';
import { desiredMigrateJob, desiredPgBouncer, desiredPostgres } from './postgres.js';
import { desiredRedis } from './redis.js';

export type { BuildContext, DesiredObject, Pipeline } from './context.js';

/** Apply order: things others reference first (Secrets, ConfigMaps, Services), workloads last. */
export const KIND_ORDER = [
  'Secret',
  'ConfigMap',
  'Service',
  'StatefulSet',
  'Deployment',
  'Job',
  'HorizontalPodAutoscaler',
  'ScaledObject',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'ServiceMonitor',
  'PrometheusRule',
] as const;

export function toPipeline(cr: AisPipeline): Pipeline {
  return { cr, spec: withDefaults(cr.spec) };
}

/** Generated credentials; base64 `data` (not stringData) so a re-read compares equal. */
export function desiredCredentials(p: Pipeline, ctx: BuildContext): DesiredObject {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(p.cr, 'credentials', credentialsSecret(p)),
    type: 'Opaque',
    data: {
      'postgres-password': b64(ctx.credentials.postgresPassword),
      'redis-password': b64(ctx.credentials.redisPassword),
      'admin-token': b64(ctx.credentials.adminToken),
    },
  };
}

/**
 * Every object the pipeline needs, sorted by apply order then name. Pure: the same CR and
 * context always give the same list; no API calls, no clock, no randomness.
 */
export function desiredObjects(cr: AisPipeline, ctx: BuildContext): DesiredObject[] {
  const p = toPipeline(cr);
  const all = [
    desiredCredentials(p, ctx),
    ...desiredNats(p, ctx),
    ...desiredRedis(p, ctx),
    ...desiredPostgres(p, ctx),
    ...desiredPgBouncer(p, ctx),
    desiredMigrateJob(p),
    ...desiredIngest(p),
    ...desiredFusion(p),
    ...desiredApi(p),
    ...desiredMetricsServices(p),
    ...desiredAutoscaler(p),
    ...desiredPdbs(p),
    ...desiredNetworkPolicies(p),
    ...desiredMonitoring(p, ctx),
  ];
  const rank = (k: string) => {
    const i = (KIND_ORDER as readonly string[]).indexOf(k);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return all.sort((a, b) => rank(a.kind) - rank(b.kind) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}
