import type { DesiredObject, Pipeline } from './context.js';
import { PORTS, natsNames, svcHost } from './endpoints.js';
import { PIPELINE_LABEL, childName, metadata, selectorLabels, type Component } from './labels.js';
import { isAutoscaled } from './apps.js';
import { redisTopology } from './redis.js';

function pdb(p: Pipeline, component: Component, maxUnavailable: number): DesiredObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(p.cr, component, childName(p.cr, component)),
    spec: { maxUnavailable, selector: { matchLabels: selectorLabels(p.cr, component) } },
  };
}

/** PDBs where a voluntary eviction could cost availability: one pod at a time. */
export function desiredPdbs(p: Pipeline): DesiredObject[] {
  const out: DesiredObject[] = [];
  if (p.spec.nats.mode === 'managed' && p.spec.nats.replicas > 1) out.push(pdb(p, 'nats', 1));
  if (p.spec.redis.mode === 'cluster' && redisTopology(p).replicasPerShard > 0) out.push(pdb(p, 'redis', 1));
  const fusionMin = isAutoscaled(p) ? p.spec.fusion.autoscaling.minReplicas : p.spec.fusion.replicas;
  if (fusionMin > 1) out.push(pdb(p, 'fusion', 1));
  if (p.spec.pgbouncer.replicas > 1) out.push(pdb(p, 'pgbouncer', 1));
  if (p.spec.api.replicas > 1) out.push(pdb(p, 'api', 1));
  return out;
}

/** HPA (CPU) or KEDA ScaledObject (JetStream consumer lag) for fusion. */
export function desiredAutoscaler(p: Pipeline): DesiredObject[] {
  const a = p.spec.fusion.autoscaling;
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: childName(p.cr, 'fusion') };
  if (a.mode === 'hpa') {
    return [
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: metadata(p.cr, 'fusion', childName(p.cr, 'fusion')),
        spec: {
          scaleTargetRef: target,
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercent } } }],
          // Scale down slowly: every change moves partitions between pods.
          behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
        },
      },
    ];
  }
  if (a.mode === 'keda') {
    const names = natsNames(p);
    return [
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: metadata(p.cr, 'fusion', childName(p.cr, 'fusion')),
        spec: {
          scaleTargetRef: { name: target.name },
          minReplicaCount: a.minReplicas,
          maxReplicaCount: a.maxReplicas,
          cooldownPeriod: 300,
          triggers: [
            {
              type: 'nats-jetstream',
              metadata: {
                natsServerMonitoringEndpoint: `${svcHost(p, 'nats')}:${PORTS.natsMonitor}`,
                account: '$G',
                stream: names.stream,
                lagThreshold: String(a.lagThreshold),
              },
            },
          ],
        },
      },
    ];
  }
  return [];
}

/**
 * Default-deny for the pipeline's pods, then the flows it needs: everything inside the pipeline,
 * DNS, Prometheus scrapes of the HTTP ports from any namespace, API clients from anywhere, and
 * egress to external databases and receivers (their addresses are unknown to us, so egress
 * outside the cluster stays open).
 */
export function desiredNetworkPolicies(p: Pipeline): DesiredObject[] {
  if (!p.spec.networkPolicy.enabled) return [];
  const pipelinePods = { podSelector: { matchLabels: { [PIPELINE_LABEL]: p.cr.metadata.name } } };
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(p.cr, 'monitoring', childName(p.cr, 'default')),
      spec: {
        podSelector: { matchLabels: { [PIPELINE_LABEL]: p.cr.metadata.name } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [pipelinePods] },
          {
            from: [{ namespaceSelector: {} }],
            ports: [
              { protocol: 'TCP', port: PORTS.ingestOps },
              { protocol: 'TCP', port: PORTS.fusionOps },
              { protocol: 'TCP', port: PORTS.natsMonitor },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(p.cr, 'api', childName(p.cr, 'api')),
      spec: {
        podSelector: { matchLabels: selectorLabels(p.cr, 'api') },
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ protocol: 'TCP', port: PORTS.api }] }],
      },
    },
  ];
}
