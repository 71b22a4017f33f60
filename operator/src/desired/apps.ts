import type { DesiredObject, Pipeline } from './context.js';
import { PORTS, commonEnv, credentialsSecret, natsNames, postgresEnv, redisEnv } from './endpoints.js';
import { CONFIG_HASH_ANNOTATION, childName, hashOf, labels, metadata, selectorLabels, type Component } from './labels.js';
import { clusterService, containerSecurityContext, envSecret, envValue, httpProbe, podSecurityContext, resources, tmpMount, tmpVolume } from './pod.js';
import { imageOf } from './redis.js';

const APP_UID = 10001;

/** Env name of a source's credential: `AISFLOW_SECRET_<ID>` (the sources document names it). */
export function sourceSecretEnv(id: string): string {
  return `AISFLOW_SECRET_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The sources document ingest reads from AISFLOW_INGEST_SOURCES_FILE. */
export function sourcesDocument(p: Pipeline): string {
  const sources = p.spec.ingest.sources.map((s) => ({
    id: s.id,
    kind: s.kind,
    address: s.address,
    priority: s.priority,
    ...(s.credentialsSecretRef ? { apiKeyEnv: sourceSecretEnv(s.id) } : {}),
  }));
  return `${JSON.stringify({ sources }, null, 2)}\n`;
}

interface AppOptions {
  component: Component;
  args: string[];
  replicas: number | undefined;
  port: number;
  env: Array<Record<string, unknown>>;
  user: Pipeline['spec']['fusion']['resources'];
  defaults: { cpu: string; memory: string; memoryLimit: string };
  volumes?: Array<Record<string, unknown>>;
  mounts?: Array<Record<string, unknown>>;
  /** Extra input of the config hash (e.g. a ConfigMap's content), so a change rolls the pods. */
  hashInput?: unknown;
}

function appDeployment(p: Pipeline, o: AppOptions): DesiredObject {
  const sel = selectorLabels(p.cr, o.component);
  const env = [...commonEnv(p, o.port), ...o.env];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(p.cr, o.component, childName(p.cr, o.component)),
    spec: {
      // Left out when an autoscaler owns the count: applying it would fight the HPA/KEDA on every
      // pass (superset-kubernetes-operator#151).
      ...(o.replicas === undefined ? {} : { replicas: o.replicas }),
      selector: { matchLabels: sel },
      // Surge first: a fusion hand-over must never leave partitions without an owner.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels(p.cr, o.component),
          annotations: { [CONFIG_HASH_ANNOTATION]: hashOf({ env, extra: o.hashInput ?? null }) },
        },
        spec: {
          securityContext: podSecurityContext(APP_UID),
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: o.component,
              image: imageOf(p),
              imagePullPolicy: p.spec.image.pullPolicy,
              args: o.args,
              env,
              ports: [{ name: 'http', containerPort: o.port, protocol: 'TCP' }],
              readinessProbe: httpProbe('/readyz', 'http', 5),
              livenessProbe: httpProbe('/healthz', 'http', 20),
              startupProbe: httpProbe('/healthz', 'http', 5, 24),
              resources: resources(o.user, o.defaults),
              securityContext: containerSecurityContext,
              volumeMounts: [tmpMount, ...(o.mounts ?? [])],
            },
          ],
          volumes: [tmpVolume, ...(o.volumes ?? [])],
        },
      },
    },
  };
}

export function desiredIngest(p: Pipeline): DesiredObject[] {
  const doc = sourcesDocument(p);
  const s = p.spec.nats.stream;
  const cmName = childName(p.cr, 'ingest-sources');
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(p.cr, 'ingest', cmName), data: { 'sources.json': doc } },
    appDeployment(p, {
      component: 'ingest',
      args: ['ingest'],
      replicas: p.spec.ingest.replicas,
      port: PORTS.ingestOps,
      env: [
        envValue('AISFLOW_INGEST_SOURCES_FILE', '/etc/aisflow/sources.json'),
        envValue('AISFLOW_STREAM_MAX_AGE_S', s.maxAgeSeconds),
        envValue('AISFLOW_STREAM_MAX_BYTES', s.maxBytes),
        envValue('AISFLOW_STREAM_DUPLICATE_WINDOW_S', s.duplicateWindowSeconds),
        envValue('AISFLOW_STREAM_REPLICAS', streamReplicas(p)),
        ...p.spec.ingest.sources
          .filter((src) => src.credentialsSecretRef)
          .map((src) => envSecret(sourceSecretEnv(src.id), src.credentialsSecretRef!.name, src.credentialsSecretRef!.key)),
      ],
      user: p.spec.ingest.resources,
      defaults: { cpu: '250m', memory: '256Mi', memoryLimit: '512Mi' },
      volumes: [{ name: 'sources', configMap: { name: cmName } }],
      mounts: [{ name: 'sources', mountPath: '/etc/aisflow', readOnly: true }],
      hashInput: doc,
    }),
  ];
}

/** Stream replicas: the spec's, else min(3, NATS servers) (1 for external NATS). */
export function streamReplicas(p: Pipeline): number {
  if (p.spec.nats.stream.replicas !== undefined) return p.spec.nats.stream.replicas;
  return p.spec.nats.mode === 'managed' ? Math.min(3, p.spec.nats.replicas) : 1;
}

export function isAutoscaled(p: Pipeline): boolean {
  return p.spec.fusion.autoscaling.mode !== 'none';
}

export function desiredFusion(p: Pipeline): DesiredObject[] {
  return [
    appDeployment(p, {
      component: 'fusion',
      args: ['fusion'],
      replicas: isAutoscaled(p) ? undefined : p.spec.fusion.replicas,
      port: PORTS.fusionOps,
      env: [
        ...redisEnv(p),
        ...postgresEnv(p, 'pgbouncer'),
        // fusion runs the history partition upkeep, so it applies the retention.
        envValue('AISFLOW_HISTORY_RETENTION_DAYS', p.spec.postgres.retentionDays),
        { name: 'AISFLOW_MEMBER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
      user: p.spec.fusion.resources,
      defaults: { cpu: '500m', memory: '512Mi', memoryLimit: '1Gi' },
    }),
  ];
}

export function desiredApi(p: Pipeline): DesiredObject[] {
  const token = p.spec.api.adminTokenSecretRef ?? { name: credentialsSecret(p), key: 'admin-token' };
  const name = childName(p.cr, 'api');
  return [
    clusterService(metadata(p.cr, 'api', name), selectorLabels(p.cr, 'api'), [{ name: 'http', port: PORTS.api }]) as DesiredObject,
    appDeployment(p, {
      component: 'api',
      args: ['api'],
      replicas: p.spec.api.replicas,
      port: PORTS.api,
      env: [...redisEnv(p), ...postgresEnv(p, 'pgbouncer'), envSecret('AISFLOW_ADMIN_TOKEN', token.name, token.key)],
      user: p.spec.api.resources,
      defaults: { cpu: '250m', memory: '256Mi', memoryLimit: '512Mi' },
    }),
  ];
}

/** Services the ServiceMonitor scrapes for ingest and fusion (their ops ports). */
export function desiredMetricsServices(p: Pipeline): DesiredObject[] {
  return (['ingest', 'fusion'] as const).map(
    (c) =>
      clusterService(
        metadata(p.cr, c, childName(p.cr, `${c}-metrics`)),
        selectorLabels(p.cr, c),
        [{ name: 'http', port: c === 'ingest' ? PORTS.ingestOps : PORTS.fusionOps }],
      ) as DesiredObject,
  );
}

export { natsNames };
