import { storageOrDefault } from '../api/v1alpha1/defaults.js';
import type { DesiredObject, Pipeline, BuildContext } from './context.js';
import { PORTS } from './endpoints.js';
import { CONFIG_HASH_ANNOTATION, childName, hashOf, metadata, selectorLabels, labels } from './labels.js';
import { clusterService, containerSecurityContext, envPodName, goRuntimeEnv, headlessService, httpProbe, podSecurityContext, pvcTemplate, resources, tmpMount, tmpVolume } from './pod.js';

const NATS_UID = 1000;

/** nats.conf: JetStream on the PVC, a route to every peer by its stable DNS name. */
export function natsConfig(p: Pipeline): string {
  const n = p.spec.nats.replicas;
  const headless = `${childName(p.cr, 'nats-headless')}.${p.cr.metadata.namespace}.svc`;
  const routes = Array.from({ length: n }, (_, i) => `    nats://${childName(p.cr, 'nats')}-${i}.${headless}:${PORTS.natsCluster}`);
  return [
    `port: ${PORTS.nats}`,
    `http_port: ${PORTS.natsMonitor}`,
    'server_name: $POD_NAME',
    'jetstream {',
    '  store_dir: /data',
    '}',
    ...(n > 1
      ? ['cluster {', `  name: ${p.cr.metadata.name}`, `  port: ${PORTS.natsCluster}`, '  routes: [', ...routes, '  ]', '}']
      : []),
    '',
  ].join('\n');
}

/** Managed NATS: config, headless + client Services, StatefulSet. Nothing when external. */
export function desiredNats(p: Pipeline, ctx: BuildContext): DesiredObject[] {
  if (p.spec.nats.mode !== 'managed') return [];
  const name = childName(p.cr, 'nats');
  const config = natsConfig(p);
  const sel = selectorLabels(p.cr, 'nats');
  const storage = storageOrDefault(p.spec.nats.storage);
  const containerResources = resources(p.spec.nats.resources, { cpu: '250m', memory: '512Mi', memoryLimit: '1Gi' });
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(p.cr, 'nats', `${name}-config`), data: { 'nats.conf': config } },
    headlessService(metadata(p.cr, 'nats', `${name}-headless`), sel, [
      { name: 'client', port: PORTS.nats },
      { name: 'cluster', port: PORTS.natsCluster },
    ]) as DesiredObject,
    clusterService(metadata(p.cr, 'nats', name), sel, [
      { name: 'client', port: PORTS.nats },
      { name: 'monitor', port: PORTS.natsMonitor },
    ]) as DesiredObject,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: metadata(p.cr, 'nats', name),
      spec: {
        serviceName: `${name}-headless`,
        replicas: p.spec.nats.replicas,
        // All at once: a RAFT cluster needs its peers to start, OrderedReady would deadlock.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: sel },
        template: {
          metadata: { labels: labels(p.cr, 'nats'), annotations: { [CONFIG_HASH_ANNOTATION]: hashOf(config) } },
          spec: {
            securityContext: podSecurityContext(NATS_UID),
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'nats',
                image: ctx.images.nats,
                args: ['--config', '/etc/nats/nats.conf'],
                env: [envPodName, ...goRuntimeEnv('nats', containerResources.limits.memory)],
                ports: [
                  { name: 'client', containerPort: PORTS.nats, protocol: 'TCP' },
                  { name: 'cluster', containerPort: PORTS.natsCluster, protocol: 'TCP' },
                  { name: 'monitor', containerPort: PORTS.natsMonitor, protocol: 'TCP' },
                ],
                readinessProbe: httpProbe('/healthz?js-enabled-only=true', 'monitor'),
                livenessProbe: httpProbe('/healthz?js-enabled-only=true', 'monitor', 30),
                resources: containerResources,
                securityContext: containerSecurityContext,
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/nats', readOnly: true },
                  { name: 'data', mountPath: '/data' },
                  tmpMount,
                ],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: `${name}-config` } }, tmpVolume],
          },
        },
        volumeClaimTemplates: [pvcTemplate('data', storage)],
      },
    },
  ];
}
