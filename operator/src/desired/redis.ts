import { storageOrDefault } from '../api/v1alpha1/defaults.js';
import type { BuildContext, DesiredObject, Pipeline } from './context.js';
import { PORTS, credentialsSecret, redisNodeRange, redisNodes } from './endpoints.js';
import { childName, hashOf, labels, metadata, selectorLabels } from './labels.js';
import {
  clusterService,
  containerSecurityContext,
  envPodName,
  envSecret,
  execProbe,
  headlessService,
  podSecurityContext,
  pvcTemplate,
  quantityValue,
  resources,
  tmpMount,
  tmpVolume,
} from './pod.js';

const REDIS_UID = 999;

/**
 * preStop of a Redis Cluster node: a primary with a healthy replica hands its slots over first
 * (`CLUSTER FAILOVER` asked of the replica: the primary pauses its clients until the replica has
 * every write, then they swap), so a rollout moves the slots in well under a second instead of
 * leaving them unserved for cluster-node-timeout while the cluster notices the stopped primary.
 * Replicas, and primaries without a replica, just stop. Bounded: 20 s, inside the pod's grace.
 */
export const REDIS_CLUSTER_PRE_STOP = `port="\${REDIS_PORT:-${PORTS.redis}}"
[ -n "\${REDIS_PASSWORD:-}" ] && export REDISCLI_AUTH="$REDIS_PASSWORD"
cli() { redis-cli -p "$port" "$@"; }
[ "$(cli role | head -n 1)" = master ] || exit 0
myid=$(cli cluster myid) || exit 0
line=$(cli cluster replicas "$myid" | grep -v -e fail -e handshake -e noaddr | head -n 1)
[ -n "$line" ] || exit 0
addr=$(echo "$line" | awk '{print $2}')
endpoint=\${addr%%@*}
rport=\${endpoint##*:}
rhost=\${endpoint%:*}
# ip:port@cport[,hostname][,aux=value...] (Redis 7.2 adds aux fields): the announced name if any
case "$addr" in *,*) h=\${addr#*,}; h=\${h%%,*}; case "$h" in *=* | '') ;; *) rhost=$h ;; esac ;; esac
redis-cli -h "$rhost" -p "$rport" cluster failover || exit 0
i=0
while [ "$i" -lt 20 ]; do
  [ "$(cli role | head -n 1)" = slave ] && exit 0
  sleep 1
  i=$((i + 1))
done
exit 0
`;

/** Share of the Redis container's memory limit given to data (`maxmemory`). */
export const REDIS_MEMORY_SHARE = 0.6;

export function redisTopology(p: Pipeline): { shards: number; replicasPerShard: number; pods: number } {
  if (p.spec.redis.mode !== 'cluster') return { shards: 1, replicasPerShard: 0, pods: 1 };
  const c = { shards: p.spec.redis.cluster?.shards ?? 3, replicasPerShard: p.spec.redis.cluster?.replicasPerShard ?? 1 };
  return { ...c, pods: c.shards * (1 + c.replicasPerShard) };
}

/**
 * Managed Redis (cluster or standalone). Cluster nodes announce their stable DNS name
 * (`cluster-announce-hostname`, Redis >= 7), so a restarted pod with a new IP keeps its identity
 * — the failure mode behind most Redis-operator bug reports (redis-operator#1782, #1233).
 * Slots are assigned by the `redis-cluster` Job, not by the pods.
 */
export function desiredRedis(p: Pipeline, ctx: BuildContext): DesiredObject[] {
  if (p.spec.redis.mode === 'external') return [];
  const cluster = p.spec.redis.mode === 'cluster';
  const name = childName(p.cr, 'redis');
  const headless = `${name}-headless`;
  const sel = selectorLabels(p.cr, 'redis');
  const topo = redisTopology(p);
  const leaving = cluster ? leavingRedisNodes(p, ctx) : [];
  const storage = storageOrDefault(p.spec.redis.storage);
  const containerResources = resources(p.spec.redis.resources, { cpu: '200m', memory: '512Mi', memoryLimit: '1Gi' });
  const args = [
    '--port', String(PORTS.redis),
    '--dir', '/data',
    '--appendonly', 'yes',
    // Full is an error, not an OOM kill: writes are refused ("OOM ..."), fusion's breaker opens
    // and the records wait in JetStream until there is room. Never evict: a dropped live state
    // is a vessel missing from the map. The rest of the limit is for the fork's copy-on-write
    // during AOF rewrites (every vessel's state changes every few seconds), buffers and
    // fragmentation.
    '--maxmemory', String(Math.floor(quantityValue(containerResources.limits.memory) * REDIS_MEMORY_SHARE)),
    '--maxmemory-policy', 'noeviction',
    '--requirepass', '$(REDIS_PASSWORD)',
    '--masterauth', '$(REDIS_PASSWORD)',
    ...(cluster
      ? [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', '/data/nodes.conf',
          '--cluster-node-timeout', '5000',
          '--cluster-announce-hostname', `$(POD_NAME).${headless}.${p.cr.metadata.namespace}.svc`,
          '--cluster-preferred-endpoint-type', 'hostname',
        ]
      : []),
  ];
  const pingProbe = execProbe(['sh', '-c', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping | grep -q PONG']);
  const objects: DesiredObject[] = [
    headlessService(metadata(p.cr, 'redis', headless), sel, [
      { name: 'redis', port: PORTS.redis },
      { name: 'bus', port: PORTS.redisBus },
    ]) as DesiredObject,
    clusterService(metadata(p.cr, 'redis', name), sel, [{ name: 'redis', port: PORTS.redis }]) as DesiredObject,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: metadata(p.cr, 'redis', name),
      spec: {
        serviceName: headless,
        // Scale-in: the leaving pods stay until the Job has drained them (their slots, keys).
        replicas: topo.pods + leaving.length,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: sel },
        template: {
          metadata: { labels: labels(p.cr, 'redis') },
          spec: {
            securityContext: podSecurityContext(REDIS_UID),
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'redis',
                image: ctx.images.redis,
                command: ['redis-server'],
                args,
                env: [envPodName, envSecret('REDIS_PASSWORD', credentialsSecret(p), 'redis-password')],
                ports: [
                  { name: 'redis', containerPort: PORTS.redis, protocol: 'TCP' },
                  { name: 'bus', containerPort: PORTS.redisBus, protocol: 'TCP' },
                ],
                ...(cluster ? { lifecycle: { preStop: { exec: { command: ['sh', '-c', REDIS_CLUSTER_PRE_STOP] } } } } : {}),
                readinessProbe: pingProbe,
                livenessProbe: { ...pingProbe, periodSeconds: 30 },
                resources: containerResources,
                securityContext: containerSecurityContext,
                volumeMounts: [{ name: 'data', mountPath: '/data' }, tmpMount],
              },
            ],
            volumes: [tmpVolume],
          },
        },
        volumeClaimTemplates: [pvcTemplate('data', storage)],
      },
    },
  ];
  if (cluster) objects.push(redisClusterJob(p, topo, leaving));
  return objects;
}

/** Members beyond the spec's count while they are not drained yet (a scale-in in progress). */
export function leavingRedisNodes(p: Pipeline, ctx: Pick<BuildContext, 'redisLive'>): string[] {
  const pods = redisTopology(p).pods;
  if (p.spec.redis.mode !== 'cluster' || !ctx.redisLive || ctx.redisLive.drained || ctx.redisLive.pods <= pods) return [];
  return redisNodeRange(p, pods, ctx.redisLive.pods);
}

/**
 * The Job that creates, repairs, grows or drains the cluster (`aisflow redis-cluster ensure`). Its
 * name carries a hash of the topology: Job templates are immutable, and a new topology needs a new
 * run. During a scale-in it is the drain Job (`--leaving`), whose success lets the pods go.
 */
export function redisClusterJob(p: Pipeline, topo = redisTopology(p), leaving: string[] = []): DesiredObject {
  const nodes = redisNodes(p);
  const args = ['redis-cluster', 'ensure', '--nodes', nodes.join(','), ...(leaving.length > 0 ? ['--leaving', leaving.join(',')] : []), '--replicas-per-shard', String(topo.replicasPerShard), '--timeout-s', '600'];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(p.cr, 'redis', childName(p.cr, `redis-cluster-${hashOf({ args, image: imageOf(p) })}`)),
    spec: {
      backoffLimit: 6,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels: labels(p.cr, 'redis') },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: podSecurityContext(10001),
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'redis-cluster',
              image: imageOf(p),
              imagePullPolicy: p.spec.image.pullPolicy,
              args,
              env: [envSecret('AISFLOW_REDIS_PASSWORD', credentialsSecret(p), 'redis-password')],
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

export function imageOf(p: Pipeline): string {
  return `${p.spec.image.repository}:${p.spec.image.tag}`;
}
