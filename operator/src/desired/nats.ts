import { IngestEnv } from '../../../pipeline/src/config/ingest.js';
import { storageOrDefault } from '../api/v1alpha1/defaults.js';
import type { DesiredObject, Pipeline, BuildContext } from './context.js';
import { PORTS } from './endpoints.js';
import { CONFIG_HASH_ANNOTATION, childName, hashOf, metadata, selectorLabels, labels } from './labels.js';
import { clusterService, containerSecurityContext, envPodName, goRuntimeEnv, headlessService, httpProbe, podSecurityContext, pvcTemplate, quantityValue, resources, tmpMount, tmpVolume } from './pod.js';

const NATS_UID = 1000;

/** Where nats-server writes its pid, for the preStop hook's `--signal ldm` (an emptyDir). */
export const NATS_PID_DIR = '/var/run/nats';
const NATS_PID_FILE = `${NATS_PID_DIR}/nats.pid`;
/** lame_duck_duration (nats-server's minimum) + lame_duck_grace_period + time to shut down */
const NATS_TERMINATION_GRACE_S = 60;

/**
 * nats.conf: JetStream on the PVC, a route to every peer by its stable DNS name, and lame duck
 * mode for stops: the preStop hook puts the server in it, so it stops taking clients, hands its
 * JetStream leaderships over and closes its clients a few at a time (they reconnect to the other
 * servers) before it exits; the SIGTERM that follows the hook waits for that.
 */
export function natsConfig(p: Pipeline): string {
  const n = p.spec.nats.replicas;
  const headless = `${childName(p.cr, 'nats-headless')}.${p.cr.metadata.namespace}.svc`;
  const routes = Array.from({ length: n }, (_, i) => `    nats://${childName(p.cr, 'nats')}-${i}.${headless}:${PORTS.natsCluster}`);
  return [
    `port: ${PORTS.nats}`,
    `http_port: ${PORTS.natsMonitor}`,
    'server_name: $POD_NAME',
    `pid_file: ${NATS_PID_FILE}`,
    'lame_duck_duration: 30s',
    'lame_duck_grace_period: 10s',
    'jetstream {',
    '  store_dir: /data',
    '}',
    ...(n > 1
      ? ['cluster {', `  name: ${p.cr.metadata.name}`, `  port: ${PORTS.natsCluster}`, '  routes: [', ...routes, '  ]', '}']
      : []),
    '',
  ].join('\n');
}

/**
 * The share of a NATS volume the streams' byte limits may take. ext4 keeps 5 % for root by
 * default (NATS runs as a user); the rest leaves room for consumer state, RAFT logs and the file
 * store's compaction.
 */
export const NATS_VOLUME_SHARE = 0.85;

const GIB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;

/**
 * Whether the streams' byte limits fit each managed NATS server's volume (every server holds a
 * whole replica). The record stream keeps data by limits, so under any steady traffic it fills
 * to max_bytes within max_age and stays there: limits beyond the volume run the disk full, and a
 * JetStream server that cannot write turns JetStream off. Undefined for an external NATS.
 */
export function natsStorageFit(p: Pipeline): { ok: boolean; message: string } | undefined {
  if (p.spec.nats.mode !== 'managed') return undefined;
  const volume = quantityValue(storageOrDefault(p.spec.nats.storage).size);
  // the DLQ stream is made by ingest and fusion with their default limit (the operator sets none)
  const dlq = IngestEnv.properties.AISFLOW_DLQ_MAX_BYTES.default;
  const record = p.spec.nats.stream.maxBytes;
  const room = Math.floor(volume * NATS_VOLUME_SHARE);
  if (record + dlq <= room) return { ok: true, message: `the streams may hold ${gib(record + dlq)} of each ${gib(volume)} volume` };
  return {
    ok: false,
    message:
      `nats.stream.maxBytes (${gib(record)}) and the DLQ (${gib(dlq)}) exceed ${NATS_VOLUME_SHARE * 100} % of nats.storage.size (${gib(volume)}): ` +
      `under steady traffic the stream fills to its limit and the disk runs full; lower nats.stream.maxBytes to at most ${Math.max(0, room - dlq)} bytes`,
  };
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
                lifecycle: { preStop: { exec: { command: ['nats-server', '--signal', `ldm=${NATS_PID_FILE}`] } } },
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
                  { name: 'pid', mountPath: NATS_PID_DIR },
                  tmpMount,
                ],
              },
            ],
            terminationGracePeriodSeconds: NATS_TERMINATION_GRACE_S,
            volumes: [{ name: 'config', configMap: { name: `${name}-config` } }, { name: 'pid', emptyDir: {} }, tmpVolume],
          },
        },
        volumeClaimTemplates: [pvcTemplate('data', storage)],
      },
    },
  ];
}
