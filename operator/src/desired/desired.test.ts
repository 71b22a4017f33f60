import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildRuleGroups } from '../../../alerts/index.js';
import { buildDashboards } from '../../../grafana/index.js';
import { validateObjects } from '../../../test/harness/k8s-validate.js';
import type { AisPipeline } from '../api/v1alpha1/aispipeline.schema.js';
import { desiredObjects, type DesiredObject } from './index.js';
import { CONFIG_HASH_ANNOTATION } from './labels.js';
import { quantityValue } from './pod.js';
import { TEST_CONTEXT } from './test-context.js';

const EXAMPLES = ['minimal', 'production', 'external-databases'] as const;

function example(name: string, patch: Record<string, unknown> = {}): AisPipeline {
  const cr = parse(readFileSync(`crds/examples/${name}.yaml`, 'utf8')) as AisPipeline;
  cr.metadata.uid = `uid-${name}`;
  cr.spec = { ...cr.spec, ...patch };
  return cr;
}

const podSpecs = (objs: DesiredObject[]) =>
  objs
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => [o.metadata.name, (o.spec as { template: { spec: Record<string, never> } }).template.spec] as const);

describe.each(EXAMPLES)('desiredObjects(%s)', (name) => {
  const objects = desiredObjects(example(name), TEST_CONTEXT);

  it('matches the snapshot', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toMatchSnapshot('names');
    expect(objects).toMatchSnapshot('objects');
  });

  it('every object validates against the Kubernetes / Prometheus Operator schemas', async () => {
    const report = await validateObjects(objects);
    expect(report.invalid).toEqual([]);
    expect(report.unchecked).toEqual([]);
    expect(report.checked).toBeGreaterThan(5);
  });

  it('every pod runs restricted: non-root, read-only root fs, no capabilities, RuntimeDefault seccomp, resources and (for servers) probes', () => {
    for (const [objName, spec] of podSpecs(objects)) {
      const pod = spec as unknown as { securityContext: Record<string, unknown>; containers: Array<Record<string, unknown>> };
      expect(pod.securityContext, objName).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of pod.containers) {
        expect(c.securityContext, objName).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect((c.resources as { requests: object }).requests, objName).toHaveProperty('memory');
        if (!objName.includes('migrate') && !objName.includes('redis-cluster-')) expect(c.readinessProbe, objName).toBeDefined();
      }
    }
  });

  it('owns every child, and never copies the CR labels or Argo CD tracking labels onto them', () => {
    for (const o of objects) {
      expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'AisPipeline', controller: true, uid: `uid-${name}` })]);
      expect(Object.keys(o.metadata.labels)).not.toContain('app.kubernetes.io/instance');
    }
  });

  it('never puts a secret value in plain env', () => {
    const text = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
    for (const secret of Object.values(TEST_CONTEXT.credentials)) expect(text).not.toContain(secret);
  });
});

describe('monitoring objects from the real grafana/ and alerts/ generators', () => {
  it('PrometheusRule and dashboard ConfigMaps validate and carry every group and dashboard', async () => {
    const ctx = { ...TEST_CONTEXT, dashboards: buildDashboards(), ruleGroups: buildRuleGroups() };
    const objects = desiredObjects(example('production'), ctx);
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    expect((rule.spec as { groups: unknown[] }).groups).toHaveLength(ctx.ruleGroups.length);
    expect(objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels.grafana_dashboard === '1')).toHaveLength(Object.keys(ctx.dashboards).length);
    expect((await validateObjects(objects.filter((o) => o.apiVersion.startsWith('monitoring') || o.kind === 'ConfigMap'))).invalid).toEqual([]);
  });
});

describe('builder behaviour', () => {
  const byName = (objs: DesiredObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
  const fusionSpec = (objs: DesiredObject[], n: string) => byName(objs, 'Deployment', `${n}-fusion`)!.spec as Record<string, unknown>;

  it('leaves spec.replicas out of the fusion Deployment when autoscaled (hpa and keda)', () => {
    expect(fusionSpec(desiredObjects(example('minimal'), TEST_CONTEXT), 'minimal')).toHaveProperty('replicas', 2);
    expect(fusionSpec(desiredObjects(example('external-databases'), TEST_CONTEXT), 'shared-infra')).not.toHaveProperty('replicas');
    expect(fusionSpec(desiredObjects(example('production'), TEST_CONTEXT), 'coastal')).not.toHaveProperty('replicas');
  });

  it('the KEDA ScaledObject is checked against the KEDA CRD schema (a wrong field type fails)', async () => {
    const scaled = byName(desiredObjects(example('production'), TEST_CONTEXT), 'ScaledObject', 'coastal-fusion')!;
    expect((await validateObjects([scaled])).checked).toBe(1);
    const broken = structuredClone(scaled) as unknown as { spec: { minReplicaCount: unknown } };
    broken.spec.minReplicaCount = 'four';
    expect((await validateObjects([broken as unknown as DesiredObject])).invalid).toEqual([expect.stringContaining('minReplicaCount')]);
  });

  it('a sources change rolls ingest (config hash), an unrelated change does not', () => {
    const hash = (cr: AisPipeline) =>
      ((byName(desiredObjects(cr, TEST_CONTEXT), 'Deployment', 'minimal-ingest')!.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations[CONFIG_HASH_ANNOTATION]);
    const base = hash(example('minimal'));
    expect(hash(example('minimal', { ingest: { sources: [{ id: 'other', kind: 'udp', address: '0.0.0.0:1' }] } }))).not.toBe(base);
    expect(hash(example('minimal', { api: { replicas: 5 } }))).toBe(base);
  });

  it('redis cluster: shards x (1 + replicas) pods, announced by hostname, and a bootstrap Job', () => {
    const objs = desiredObjects(example('production'), TEST_CONTEXT);
    const sts = byName(objs, 'StatefulSet', 'coastal-redis')!.spec as { replicas: number; template: { spec: { containers: Array<{ args: string[] }> } } };
    expect(sts.replicas).toBe(12);
    expect(sts.template.spec.containers[0]!.args.join(' ')).toContain('--cluster-announce-hostname $(POD_NAME).coastal-redis-headless.ais-prod.svc');
    const job = objs.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('coastal-redis-cluster-'));
    expect(JSON.stringify(job)).toContain('coastal-redis-11.coastal-redis-headless.ais-prod.svc:6379');
  });

  it('external databases: no NATS/Redis/Postgres workloads, credentials from the user Secrets', () => {
    const objs = desiredObjects(example('external-databases'), TEST_CONTEXT);
    expect(objs.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    const text = JSON.stringify(byName(objs, 'Deployment', 'shared-infra-fusion'));
    expect(text).toContain('"secretKeyRef":{"name":"ais-redis","key":"nodes"}');
    expect(text).toContain('"secretKeyRef":{"name":"ais-nats","key":"url"}');
  });

  it('managed NATS: resources from the spec, and the Go runtime sized to the container (GOMAXPROCS from the CPU limit, GOMEMLIMIT at 90 % of memory)', () => {
    type NatsContainer = { env: Array<{ name: string; value?: string; valueFrom?: unknown }>; resources: { requests: object; limits: Record<string, string> } };
    const nats = (cr: AisPipeline) => (byName(desiredObjects(cr, TEST_CONTEXT), 'StatefulSet', 'minimal-nats')!.spec as { template: { spec: { containers: NatsContainer[] } } }).template.spec.containers[0]!;
    const env = (c: NatsContainer, name: string) => c.env.find((e) => e.name === name);

    const byDefault = nats(example('minimal'));
    expect(byDefault.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } });
    expect(env(byDefault, 'GOMAXPROCS')).toEqual({ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { containerName: 'nats', resource: 'limits.cpu', divisor: '1' } } });
    expect(env(byDefault, 'GOMEMLIMIT')).toEqual({ name: 'GOMEMLIMIT', value: String(Math.floor(0.9 * 2 ** 30)) });

    const sized = nats(example('minimal', { nats: { ...example('minimal').spec.nats, resources: { requests: { cpu: '1' }, limits: { cpu: '2', memory: '1.5Gi' } } } }));
    expect(sized.resources).toEqual({ requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '2', memory: '1.5Gi' } });
    expect(env(sized, 'GOMEMLIMIT')?.value).toBe(String(Math.floor(0.9 * 1.5 * 2 ** 30)));
  });

  it('managed Redis refuses writes when full instead of being OOM-killed: maxmemory at 60 % of its memory limit, never evicting', () => {
    const args = (cr: AisPipeline) => (byName(desiredObjects(cr, TEST_CONTEXT), 'StatefulSet', 'minimal-redis')!.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args.join(' ');
    expect(args(example('minimal'))).toContain(`--maxmemory ${Math.floor(0.6 * 2 ** 30)} --maxmemory-policy noeviction`);
    const sized = example('minimal', { redis: { ...example('minimal').spec.redis, resources: { limits: { memory: '2Gi' } } } });
    expect(args(sized)).toContain(`--maxmemory ${Math.floor(0.6 * 2 * 2 ** 30)} `);
  });

  it('managed Postgres: connections for every PgBouncer pool, a quarter of its memory as shared_buffers and as /dev/shm', () => {
    type Pod = { containers: Array<{ args: string[]; volumeMounts: Array<{ name: string; mountPath: string }> }>; volumes: Array<{ name: string; emptyDir?: object }> };
    const pod = (cr: AisPipeline) => (byName(desiredObjects(cr, TEST_CONTEXT), 'StatefulSet', 'minimal-postgres')!.spec as { template: { spec: Pod } }).template.spec;
    const byDefault = pod(example('minimal'));
    // 2 PgBouncer pods x 20 + 20 is below Postgres's own 100; a 2Gi limit
    expect(byDefault.containers[0]!.args).toEqual(['postgres', '-c', 'max_connections=100', '-c', 'shared_buffers=512MB']);
    expect(byDefault.containers[0]!.volumeMounts).toContainEqual({ name: 'shm', mountPath: '/dev/shm' });
    expect(byDefault.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } });

    const base = example('minimal').spec;
    const big = pod(example('minimal', { pgbouncer: { ...base.pgbouncer, replicas: 4, defaultPoolSize: 50 }, postgres: { ...base.postgres, resources: { limits: { memory: '8Gi' } } } }));
    expect(big.containers[0]!.args).toEqual(['postgres', '-c', 'max_connections=220', '-c', 'shared_buffers=2048MB']);
    expect(big.volumes).toContainEqual({ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '2048Mi' } });
  });

  it('pgbouncer: resources from the spec over its defaults', () => {
    const container = (cr: AisPipeline) =>
      (byName(desiredObjects(cr, TEST_CONTEXT), 'Deployment', 'minimal-pgbouncer')!.spec as { template: { spec: { containers: Array<{ resources: object }> } } }).template.spec.containers[0]!;
    expect(container(example('minimal')).resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    const sized = example('minimal', { pgbouncer: { ...example('minimal').spec.pgbouncer, resources: { limits: { cpu: '500m', memory: '512Mi' } } } });
    expect(container(sized).resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
  });

  it('reads resource quantities as the CRD allows them: decimals, binary and decimal suffixes, millis', () => {
    expect(quantityValue('1Gi')).toBe(2 ** 30);
    expect(quantityValue('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(quantityValue('512Mi')).toBe(512 * 2 ** 20);
    expect(quantityValue('2G')).toBe(2e9);
    expect(quantityValue('250m')).toBe(0.25);
    expect(quantityValue('1000')).toBe(1000);
    expect(() => quantityValue('1 Gi')).toThrow(/not a resource quantity: "1 Gi"/);
    expect(() => quantityValue('1GB')).toThrow(RangeError);
  });

  it('is pure: the same input gives the same output', () => {
    expect(desiredObjects(example('production'), TEST_CONTEXT)).toEqual(desiredObjects(example('production'), TEST_CONTEXT));
  });
});
