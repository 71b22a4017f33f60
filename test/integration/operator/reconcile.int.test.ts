import { readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../pipeline/src/shared/clock.js';
import { createOperatorMetrics } from '../../../pipeline/src/telemetry/metrics/operator.js';
import type { AisPipeline } from '../../../operator/src/api/v1alpha1/aispipeline.schema.js';
import { Controller } from '../../../operator/src/controller/controller.js';
import { LeaderElector } from '../../../operator/src/controller/leader.js';
import { TEST_CONTEXT } from '../../../operator/src/desired/test-context.js';
import { Kube } from '../../../operator/src/k8s/kube.js';
import { Reconciler } from '../../../operator/src/reconcile/reconciler.js';
import { natsStreamJanitor } from '../../../operator/src/reconcile/streams.js';
import { declaredPartitions } from '../../../pipeline/src/shared/stream-partitions.js';
import { FakeKubeApiServer, type RecordedRequest } from '../../harness/fake-kube-apiserver.js';
import { renderChart } from './helm.js';

/**
 * The reconcile loop through the real @kubernetes/client-node HTTP calls against a loopback fake
 * API server (NOT a real cluster: no defaulting, admission or controllers run; see
 * scripts/e2e/kind.sh for a real one). Each case asserts the exact ordered verbs and paths.
 */
const NS = `op${process.pid}`;
const CR_PATH = `/apis/aisflow.io/v1alpha1/namespaces/${NS}/aispipelines`;
const LISTS = [
  `LIST /api/v1/namespaces/${NS}/secrets`,
  `LIST /api/v1/namespaces/${NS}/configmaps`,
  `LIST /api/v1/namespaces/${NS}/services`,
  `LIST /apis/apps/v1/namespaces/${NS}/statefulsets`,
  `LIST /apis/apps/v1/namespaces/${NS}/deployments`,
  `LIST /apis/batch/v1/namespaces/${NS}/jobs`,
  `LIST /apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers`,
  `LIST /apis/keda.sh/v1alpha1/namespaces/${NS}/scaledobjects`,
  `LIST /apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`,
  `LIST /apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`,
  `LIST /apis/monitoring.coreos.com/v1/namespaces/${NS}/servicemonitors`,
  `LIST /apis/monitoring.coreos.com/v1/namespaces/${NS}/prometheusrules`,
];

let server: FakeKubeApiServer;
let kube: Kube;
const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
const logger = pino({ level: 'silent' });
const all: RecordedRequest[] = [];

function cr(name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): AisPipeline {
  return {
    apiVersion: 'aisflow.io/v1alpha1',
    kind: 'AisPipeline',
    metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
    spec: { ingest: { sources: [{ id: 'rx', kind: 'tcp', address: 'rx.example:10110' }] }, ...spec } as never,
  };
}

const reconciler = (extra: Partial<ConstructorParameters<typeof Reconciler>[0]> = {}) =>
  new Reconciler({ kube, context: TEST_CONTEXT, clock, logger, generateSecret: () => 'generated', ...extra });

/** Runs one pass and returns its calls (recorded for the RBAC check too). */
async function pass(r: Reconciler, name: string) {
  server.clearRequests();
  const outcome = await r.reconcile(NS, name);
  all.push(...server.requests);
  return { outcome, calls: server.calls() };
}

beforeAll(async () => {
  server = new FakeKubeApiServer();
  kube = Kube.forServer(await server.start());
});
afterAll(async () => {
  await server.stop();
});

describe('reconcile against the fake API server', () => {
  beforeEach(() => clock.advance(1000));

  it('creates everything from scratch in apply order, then an idempotent second pass makes no writes', async () => {
    server.put(cr('fresh', {}));
    const r = reconciler();
    const first = await pass(r, 'fresh');
    expect(first.outcome).toEqual({ kind: 'requeueAfter', ms: 15_000 });
    const patches = first.calls.filter((c) => c.startsWith('PATCH'));
    expect(first.calls).toEqual([`GET ${CR_PATH}/fresh`, ...LISTS, ...patches, `UPDATE ${CR_PATH}/fresh/status`]);
    expect(patches.slice(0, 3)).toEqual([
      `PATCH /api/v1/namespaces/${NS}/secrets/fresh-credentials`,
      `PATCH /api/v1/namespaces/${NS}/configmaps/fresh-ingest-sources`,
      `PATCH /api/v1/namespaces/${NS}/configmaps/fresh-nats-config`,
    ]);
    expect(patches).toHaveLength(27);
    expect(server.requests.filter((q) => q.verb === 'patch').every((q) => q.fieldManager === 'aisflow-operator')).toBe(true);
    const status = server.get('AisPipeline', NS, 'fresh')!.status as AisPipeline['status'];
    expect(status?.phase).toBe('Progressing');
    expect(status?.observedGeneration).toBe(1);
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', observedGeneration: 1 });
    // The spec is never written back with defaults.
    expect(server.get('AisPipeline', NS, 'fresh')!.spec).toEqual(cr('fresh', {}).spec);

    const second = await pass(r, 'fresh');
    expect(second.calls).toEqual([`GET ${CR_PATH}/fresh`, ...LISTS]);
  });

  it('reports Ready (and an event) once the workloads are ready, and stays quiet afterwards', async () => {
    const r = reconciler();
    for (const d of server.list('Deployment', NS).filter((o) => o.metadata.name.startsWith('fresh-'))) {
      const replicas = (d.spec as { replicas?: number }).replicas ?? 1;
      server.patch('Deployment', NS, d.metadata.name, { status: { replicas, availableReplicas: replicas } });
    }
    for (const s of server.list('StatefulSet', NS).filter((o) => o.metadata.name.startsWith('fresh-'))) {
      server.patch('StatefulSet', NS, s.metadata.name, { status: { readyReplicas: (s.spec as { replicas: number }).replicas } });
    }
    const { outcome, calls } = await pass(r, 'fresh');
    expect(outcome).toEqual({ kind: 'requeueAfter', ms: 300_000 });
    expect(calls).toEqual([`GET ${CR_PATH}/fresh`, ...LISTS, `UPDATE ${CR_PATH}/fresh/status`, `CREATE /api/v1/namespaces/${NS}/events`]);
    expect(server.list('Event', NS).map((e) => e.reason)).toContain('PipelineReady');
    expect((server.get('AisPipeline', NS, 'fresh')!.status as { fusion: unknown }).fusion).toEqual({
      replicas: 2,
      readyReplicas: 2,
      selector: 'aisflow.io/pipeline=fresh,app.kubernetes.io/component=fusion',
      summary: '2/2',
    });
    expect((await pass(r, 'fresh')).calls).toEqual([`GET ${CR_PATH}/fresh`, ...LISTS]);
  });

  it('corrects drift: an edited Deployment is re-applied, and only that one', async () => {
    server.patch('Deployment', NS, 'fresh-ingest', { spec: { template: { spec: { containers: [{ name: 'ingest', image: 'evil:latest' }] } } } });
    server.patch('ConfigMap', NS, 'fresh-nats-config', { data: { 'nats.conf': 'port: 1' } });
    const { calls } = await pass(reconciler(), 'fresh');
    expect(calls).toEqual([
      `GET ${CR_PATH}/fresh`,
      ...LISTS,
      `PATCH /api/v1/namespaces/${NS}/configmaps/fresh-nats-config`,
      `PATCH /apis/apps/v1/namespaces/${NS}/deployments/fresh-ingest`,
    ]); // status unchanged: not written
    const ingest = server.get('Deployment', NS, 'fresh-ingest')!.spec as { template: { spec: { containers: Array<{ image: string }> } } };
    expect(ingest.template.spec.containers[0]!.image).toBe('ghcr.io/aisflow/aisflow:0.1.0');
  });

  it('scales fusion when spec.fusion.replicas changes (new generation observed)', async () => {
    const live = server.get('AisPipeline', NS, 'fresh')!;
    server.put({ ...live, spec: { ...(live.spec as object), fusion: { replicas: 5 } } });
    const { calls } = await pass(reconciler(), 'fresh');
    expect(calls).toEqual([`GET ${CR_PATH}/fresh`, ...LISTS, `PATCH /apis/apps/v1/namespaces/${NS}/deployments/fresh-fusion`, `UPDATE ${CR_PATH}/fresh/status`, `CREATE /api/v1/namespaces/${NS}/events`]);
    expect((server.get('Deployment', NS, 'fresh-fusion')!.spec as { replicas: number }).replicas).toBe(5);
    const status = server.get('AisPipeline', NS, 'fresh')!.status as AisPipeline['status'];
    expect(status?.observedGeneration).toBe(2);
    expect(status?.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('prunes objects no longer desired (a source-free spec keeps its ConfigMap; disabling PDB-worthy replicas drops the PDB)', async () => {
    const live = server.get('AisPipeline', NS, 'fresh')!;
    server.put({ ...live, spec: { ...(live.spec as object), fusion: { replicas: 1 }, api: { replicas: 1 } } });
    const { calls } = await pass(reconciler(), 'fresh');
    expect(calls.filter((c) => c.startsWith('DELETE'))).toEqual([
      `DELETE /apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/fresh-api`,
      `DELETE /apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/fresh-fusion`,
    ]);
    expect(server.get('PodDisruptionBudget', NS, 'fresh-api')).toBeUndefined();
  });

  it('pause: only status is written, spec changes wait; resuming applies them', async () => {
    const live = server.get('AisPipeline', NS, 'fresh')!;
    server.put({ ...live, metadata: { ...live.metadata, annotations: { 'aisflow.io/paused': 'true' } }, spec: { ...(live.spec as object), fusion: { replicas: 3 } } });
    const r = reconciler();
    const paused = await pass(r, 'fresh');
    expect(paused.outcome).toEqual({ kind: 'done' });
    expect(paused.calls).toEqual([`GET ${CR_PATH}/fresh`, `UPDATE ${CR_PATH}/fresh/status`, `CREATE /api/v1/namespaces/${NS}/events`]);
    expect((server.get('AisPipeline', NS, 'fresh')!.status as AisPipeline['status'])?.phase).toBe('Paused');
    expect((server.get('Deployment', NS, 'fresh-fusion')!.spec as { replicas: number }).replicas).toBe(1);
    expect((await pass(r, 'fresh')).calls).toEqual([`GET ${CR_PATH}/fresh`]);

    const again = server.get('AisPipeline', NS, 'fresh')!;
    server.put({ ...again, metadata: { ...again.metadata, annotations: {} } });
    const resumed = await pass(r, 'fresh');
    expect(resumed.calls).toContain(`PATCH /apis/apps/v1/namespaces/${NS}/deployments/fresh-fusion`);
    expect((server.get('Deployment', NS, 'fresh-fusion')!.spec as { replicas: number }).replicas).toBe(3);
    expect(server.list('Event', NS).map((e) => e.reason)).toEqual(expect.arrayContaining(['ReconciliationPaused', 'ReconciliationResumed']));
  });

  it('HPA mode: creates the HPA, never sets fusion replicas, leaves what the HPA chose alone', async () => {
    server.put(cr('scaled', { fusion: { autoscaling: { mode: 'hpa', minReplicas: 2, maxReplicas: 10 } } }));
    const r = reconciler();
    const first = await pass(r, 'scaled');
    expect(first.calls).toContain(`PATCH /apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/scaled-fusion`);
    expect(server.get('Deployment', NS, 'scaled-fusion')!.spec).not.toHaveProperty('replicas');
    // The HPA controller scales the Deployment (another field manager).
    server.patch('Deployment', NS, 'scaled-fusion', { spec: { replicas: 7 } });
    const second = await pass(r, 'scaled');
    expect(second.calls.filter((c) => c.includes('deployments/scaled-fusion'))).toEqual([]);
    expect((server.get('Deployment', NS, 'scaled-fusion')!.spec as { replicas: number }).replicas).toBe(7);
    expect((server.get('AisPipeline', NS, 'scaled')!.status as { fusion: { summary: string } }).fusion.summary).toBe('0/7');
  });

  it('switching a running pipeline to HPA hands replicas over instead of dropping them to 1', async () => {
    server.put(cr('switch', { fusion: { replicas: 4 } }));
    const r = reconciler();
    await pass(r, 'switch');
    expect((server.get('Deployment', NS, 'switch-fusion')!.spec as { replicas: number }).replicas).toBe(4);
    const live = server.get('AisPipeline', NS, 'switch')!;
    server.put({ ...live, spec: { ...(live.spec as object), fusion: { replicas: 4, autoscaling: { mode: 'hpa', minReplicas: 2, maxReplicas: 8 } } } });
    const switched = await pass(r, 'switch');
    const fusionPatches = server.requests.filter((q) => q.verb === 'patch' && q.path.endsWith('/deployments/switch-fusion'));
    expect(fusionPatches.map((q) => q.fieldManager)).toEqual(['aisflow-operator-handover', 'aisflow-operator']);
    expect(switched.calls).toContain(`PATCH /apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/switch-fusion`);
    expect((server.get('Deployment', NS, 'switch-fusion')!.spec as { replicas: number }).replicas).toBe(4);
    // Handed over once; afterwards nothing to do.
    expect((await pass(r, 'switch')).calls.filter((c) => c.includes('deployments/switch-fusion'))).toEqual([]);
  });

  it('an invalid spec gives Degraded + a Warning event and is not retried (terminal)', async () => {
    // min > max: the CRD's CEL rule rejects this at admission; the fake server has no admission.
    server.put(cr('broken', { fusion: { autoscaling: { mode: 'hpa', minReplicas: 9, maxReplicas: 3 } } }));
    const r = reconciler();
    const { outcome, calls } = await pass(r, 'broken');
    expect(outcome.kind).toBe('terminal');
    expect(calls).toEqual([`GET ${CR_PATH}/broken`, `UPDATE ${CR_PATH}/broken/status`, `CREATE /api/v1/namespaces/${NS}/events`]);
    const status = server.get('AisPipeline', NS, 'broken')!.status as AisPipeline['status'];
    expect(status?.phase).toBe('Degraded');
    expect(status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    const event = server.list('Event', NS).find((e) => (e.involvedObject as { name: string }).name === 'broken')!;
    expect(event).toMatchObject({ type: 'Warning', reason: 'InvalidSpec' });
    expect(String(event.message)).toContain('minReplicas 9 > maxReplicas 3');
    // Same spec again: nothing new to say.
    expect((await pass(r, 'broken')).calls).toEqual([`GET ${CR_PATH}/broken`]);
  });

  it('optional kinds (KEDA, ServiceMonitor, PrometheusRule, NetworkPolicy, dashboards) are applied, then pruned when switched off', async () => {
    const prod = parseYaml(readFileSync('crds/examples/production.yaml', 'utf8')) as AisPipeline;
    server.put({ ...prod, metadata: { name: 'prod', namespace: NS } });
    const r = reconciler();
    const first = await pass(r, 'prod');
    for (const path of [
      `/apis/keda.sh/v1alpha1/namespaces/${NS}/scaledobjects/prod-fusion`,
      `/apis/monitoring.coreos.com/v1/namespaces/${NS}/servicemonitors/prod-pipeline`,
      `/apis/monitoring.coreos.com/v1/namespaces/${NS}/prometheusrules/prod-rules`,
      `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/prod-default`,
      `/api/v1/namespaces/${NS}/configmaps/prod-dashboard-aisflow-overview`,
    ]) expect(first.calls).toContain(`PATCH ${path}`);

    // Everything optional off, databases external, a new image (new migrate Job), HPA instead of KEDA.
    const live = server.get('AisPipeline', NS, 'prod')!;
    server.put({
      ...live,
      spec: {
        ...(live.spec as object),
        image: { tag: '0.2.0' },
        monitoring: {},
        networkPolicy: { enabled: false },
        fusion: { partitions: 128, autoscaling: { mode: 'hpa', minReplicas: 2, maxReplicas: 4 } },
        nats: { mode: 'external', external: { urlSecretRef: { name: 'n', key: 'url' } } },
        redis: { mode: 'external', external: { secretRef: { name: 'r' } } },
        postgres: { mode: 'external', external: { secretRef: { name: 'p' } } },
      },
    });
    const second = await pass(r, 'prod');
    const deleted = second.calls.filter((c) => c.startsWith('DELETE')).map((c) => c.split('/').slice(-2).join('/'));
    expect(deleted).toEqual(expect.arrayContaining([
      'configmaps/prod-dashboard-aisflow-overview',
      'configmaps/prod-nats-config',
      'services/prod-redis-headless',
      'statefulsets/prod-postgres',
      'jobs/prod-migrate-' + deleted.find((d) => d.startsWith('jobs/prod-migrate-'))!.split('prod-migrate-')[1],
      'scaledobjects/prod-fusion',
      'poddisruptionbudgets/prod-redis',
      'networkpolicies/prod-default',
      'servicemonitors/prod-pipeline',
      'prometheusrules/prod-rules',
    ]));
    expect(second.calls).toContain(`PATCH /apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/prod-fusion`);

    const again = server.get('AisPipeline', NS, 'prod')!;
    server.put({ ...again, spec: { ...(again.spec as object), fusion: { partitions: 128, replicas: 2 } } });
    const third = await pass(r, 'prod');
    expect(third.calls).toContain(`DELETE /apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/prod-fusion`);
  });

  it('a stale write gets 409 and the pass fails (transient), the next pass succeeds', async () => {
    server.put(cr('racy', {}));
    const r = reconciler();
    server.failOnce('update', `${CR_PATH}/racy/status`, 409);
    await expect(pass(r, 'racy')).rejects.toMatchObject({ statusCode: 409, code: 'AISFLOW_ERR_OPERATOR_CONFLICT' });
    const retry = await pass(r, 'racy');
    expect(retry.calls.at(-1)).toBe(`UPDATE ${CR_PATH}/racy/status`);
  });
});

describe('Redis Cluster slot coverage (periodic external check)', () => {
  it('uncovered slots: RedisReady=False, Degraded, and the finished cluster Job is re-run', async () => {
    server.put(cr('slots', {}));
    let covered = true;
    const r = reconciler({ redisSlots: { check: async () => (covered ? { ok: true, message: 'all 16384 slots served' } : { ok: false, message: '5461 of 16384 slots are not served' }) } });
    await pass(r, 'slots');
    server.patch('StatefulSet', NS, 'slots-redis', { status: { readyReplicas: 6 } });
    const job = server.list('Job', NS).find((j) => j.metadata.name.startsWith('slots-redis-cluster-'))!;
    server.patch('Job', NS, job.metadata.name, { status: { succeeded: 1 } });
    await pass(r, 'slots');
    const ok = (server.get('AisPipeline', NS, 'slots')!.status as AisPipeline['status'])?.conditions?.find((c) => c.type === 'RedisReady');
    expect(ok?.status).toBe('True');

    covered = false;
    const broken = await pass(r, 'slots');
    expect(broken.calls).toContain(`DELETE /apis/batch/v1/namespaces/${NS}/jobs/${job.metadata.name}`);
    const status = server.get('AisPipeline', NS, 'slots')!.status as AisPipeline['status'];
    expect(status?.conditions?.find((c) => c.type === 'RedisReady')).toMatchObject({ status: 'False', reason: 'SlotsUncovered' });
    expect(status?.phase).toBe('Degraded');
    const rerun = await pass(r, 'slots');
    expect(rerun.calls).toContain(`PATCH /apis/batch/v1/namespaces/${NS}/jobs/${job.metadata.name}`);
  });
});

describe('Redis Cluster scale-in', () => {
  it('keeps the leaving pods until the drain Job succeeded, then shrinks the StatefulSet and runs the plain Job', async () => {
    const redis = (shards: number) => ({ redis: { mode: 'cluster', cluster: { shards, replicasPerShard: 1 } } });
    server.put(cr('shrink', redis(4)));
    const r = reconciler({ redisSlots: { check: async () => ({ ok: true, message: 'all 16384 slots served' }) } });
    await pass(r, 'shrink');
    const sts = () => (server.get('StatefulSet', NS, 'shrink-redis')!.spec as { replicas: number }).replicas;
    const jobs = () => server.list('Job', NS).filter((j) => j.metadata.name.startsWith('shrink-redis-cluster-'));
    const args = (j: object) => ((j as { spec: unknown }).spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args;
    expect(sts()).toBe(8);
    server.patch('StatefulSet', NS, 'shrink-redis', { status: { readyReplicas: 8 } });

    const live = server.get('AisPipeline', NS, 'shrink')!;
    server.put({ ...live, spec: { ...(live.spec as object), ...redis(3) } });
    const draining = await pass(r, 'shrink');
    expect(sts()).toBe(8);
    const [drain] = jobs();
    expect(jobs()).toHaveLength(1);
    const leaving = args(drain!)[args(drain!).indexOf('--leaving') + 1]!;
    expect(leaving.split(',').map((n) => n.split('.')[0])).toEqual(['shrink-redis-6', 'shrink-redis-7']);
    expect(args(drain!)[args(drain!).indexOf('--nodes') + 1]!.split(',')).toHaveLength(6);
    expect(draining.calls).not.toContain(`PATCH /apis/apps/v1/namespaces/${NS}/statefulsets/shrink-redis`);
    const redisReady = () => (server.get('AisPipeline', NS, 'shrink')!.status as AisPipeline['status'])?.conditions?.find((c) => c.type === 'RedisReady');
    expect(redisReady()).toMatchObject({ status: 'False', reason: 'ScalingIn' });
    expect(redisReady()?.message).toContain('shrink-redis-6, shrink-redis-7');

    // A pass before the Job finished changes nothing.
    await pass(r, 'shrink');
    expect(sts()).toBe(8);

    // A drain Job that gave up is deleted and created again; the pods still stay.
    server.patch('Job', NS, drain!.metadata.name, { status: { failed: 7, conditions: [{ type: 'Failed', status: 'True' }] } });
    const failed = await pass(r, 'shrink');
    expect(failed.calls).toContain(`DELETE /apis/batch/v1/namespaces/${NS}/jobs/${drain!.metadata.name}`);
    expect(redisReady()?.message).toContain('failed and is run again');
    const rerun = await pass(r, 'shrink');
    expect(rerun.calls).toContain(`PATCH /apis/batch/v1/namespaces/${NS}/jobs/${drain!.metadata.name}`);
    expect(sts()).toBe(8);

    server.patch('Job', NS, drain!.metadata.name, { status: { succeeded: 1 } });
    const shrunk = await pass(r, 'shrink');
    expect(sts()).toBe(6);
    expect(shrunk.calls).toContain(`DELETE /apis/batch/v1/namespaces/${NS}/jobs/${drain!.metadata.name}`);
    expect(jobs().map((j) => args(j).includes('--leaving'))).toEqual([false]);
    server.patch('StatefulSet', NS, 'shrink-redis', { status: { readyReplicas: 6 } });
    await pass(r, 'shrink');
    expect(redisReady()).toMatchObject({ status: 'True' });
  });
});

describe('optional CRDs not installed (no KEDA, no Prometheus Operator)', () => {
  it('applies everything else and reports Degraded with the missing APIs named', async () => {
    const bare = new FakeKubeApiServer({ missingGroups: ['keda.sh', 'monitoring.coreos.com'] });
    const k = Kube.forServer(await bare.start());
    try {
      const prod = parseYaml(readFileSync('crds/examples/production.yaml', 'utf8')) as AisPipeline;
      bare.put({ ...prod, metadata: { name: 'prod', namespace: NS } });
      const outcome = await new Reconciler({ kube: k, context: TEST_CONTEXT, clock, logger, generateSecret: () => 'g' }).reconcile(NS, 'prod');
      expect(outcome).toEqual({ kind: 'requeueAfter', ms: 15_000 });
      expect(bare.get('Deployment', NS, 'prod-fusion')).toBeDefined();
      const status = bare.get('AisPipeline', NS, 'prod')!.status as AisPipeline['status'];
      expect(status?.phase).toBe('Degraded');
      const degraded = status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded?.message).toContain('ScaledObject prod-fusion: the keda.sh/v1alpha1 API is not installed in this cluster');
      expect(degraded?.message).toContain('ServiceMonitor prod-pipeline: the monitoring.coreos.com/v1 API is not installed');
    } finally {
      await bare.stop();
    }
  });
});

describe('deletionPolicy Delete: finalizer and JetStream streams (real NATS on 127.0.0.1:4222)', () => {
  const natsUrl = 'nats://127.0.0.1:4222';
  const streamName = `AIS_${NS}_GONE`.toUpperCase();

  it('adds the finalizer, creates the stream, and on delete removes the streams before letting go', async () => {
    server.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nats-url', namespace: NS }, data: { url: Buffer.from(natsUrl).toString('base64') } });
    server.put(cr('gone', { deletionPolicy: 'Delete', nats: { mode: 'external', external: { urlSecretRef: { name: 'nats-url', key: 'url' } } } }));
    const r = reconciler({ streams: natsStreamJanitor });
    const first = await pass(r, 'gone');
    expect(first.calls.slice(0, 2)).toEqual([`GET ${CR_PATH}/gone`, `UPDATE ${CR_PATH}/gone`]);
    expect(first.calls).toContain(`GET /api/v1/namespaces/${NS}/secrets/nats-url`);
    expect(server.get('AisPipeline', NS, 'gone')!.metadata.finalizers).toEqual(['aisflow.io/external-resources']);

    const nc = await connect({ servers: natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(streamName)).config.subjects).toEqual([`ais-${NS}-gone.msg.>`]);
      // the stream records the spec's partition count (the default), which ingest and fusion check
      expect(declaredPartitions((await jsm.streams.info(streamName)).config.description)).toBe(16);
      // Drift outside Kubernetes: someone shortens max_age; the next pass restores it.
      const info = await jsm.streams.info(streamName);
      await jsm.streams.update(streamName, { ...info.config, max_age: 600_000_000_000 });
      await pass(r, 'gone');
      expect((await jsm.streams.info(streamName)).config.max_age).toBe(86_400_000_000_000);

      // kubectl delete: the API server only sets deletionTimestamp while the finalizer is there.
      // (the user's delete, not the operator's: not recorded for the RBAC comparison)
      await kube.objects.delete({ apiVersion: 'aisflow.io/v1alpha1', kind: 'AisPipeline', metadata: { name: 'gone', namespace: NS } });
      expect(server.get('AisPipeline', NS, 'gone')!.metadata.deletionTimestamp).toBeDefined();
      const del = await pass(r, 'gone');
      expect(del.outcome).toEqual({ kind: 'done' });
      expect(del.calls).toEqual([`GET ${CR_PATH}/gone`, `GET /api/v1/namespaces/${NS}/secrets/nats-url`, `CREATE /api/v1/namespaces/${NS}/events`, `UPDATE ${CR_PATH}/gone`]);
      await expect(jsm.streams.info(streamName)).rejects.toThrow(/stream not found/);
      // Gone, and its children with it (owner references).
      expect(server.get('AisPipeline', NS, 'gone')).toBeUndefined();
      expect(server.get('Deployment', NS, 'gone-fusion')).toBeUndefined();
    } finally {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(streamName).catch(() => undefined);
      await nc.close();
    }
  });
});

describe('leader election on a Lease', () => {
  it('one leader at a time; the other takes over when renewals stop, and at once on release', async () => {
    const lc = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const events: string[] = [];
    const elector = (id: string) =>
      new LeaderElector(kube, lc, logger, { namespace: NS, name: 'aisflow-operator', identity: id, leaseDurationMs: 15_000 }, {
        onStartedLeading: () => events.push(`${id} leads`),
        onStoppedLeading: () => events.push(`${id} stops`),
      });
    const a = elector('pod-a');
    const b = elector('pod-b');
    server.clearRequests();
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    lc.advance(10_000);
    expect(await a.tryAcquireOrRenew()).toBe(true); // renewed
    lc.advance(10_000);
    expect(await b.tryAcquireOrRenew()).toBe(false); // a renewed 10 s ago
    lc.advance(16_000); // a stopped renewing (crashed)
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(server.get('Lease', NS, 'aisflow-operator')!.spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 1 });
    await b.stop(); // graceful: hands the lease back
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(events).toEqual(['pod-a leads', 'pod-b leads', 'pod-a stops', 'pod-a leads']);
    all.push(...server.requests);
    expect(server.calls().slice(0, 3)).toEqual([
      `GET /apis/coordination.k8s.io/v1/namespaces/${NS}/leases/aisflow-operator`,
      `CREATE /apis/coordination.k8s.io/v1/namespaces/${NS}/leases`,
      `GET /apis/coordination.k8s.io/v1/namespaces/${NS}/leases/aisflow-operator`,
    ]);
  });
});

describe('controller: informers, queue and watch expiry', () => {
  it('reconciles on CR events, survives a 410 Gone watch expiry by re-listing, and counts outcomes', async () => {
    const registry = new Registry();
    const metrics = createOperatorMetrics(registry);
    const controller = new Controller(kube, reconciler({ metrics }), logger, metrics, { namespace: NS, workers: 1 });
    server.clearRequests();
    await controller.start();
    controller.setLeading(true);
    try {
      server.put(cr('watched', {}));
      const waitFor = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
        expect(ok(), what).toBe(true);
      };
      const gen = () => (server.get('AisPipeline', NS, 'watched')?.status as { observedGeneration?: number } | undefined)?.observedGeneration;
      await waitFor('first reconcile', () => gen() === 1);
      const watchesBefore = server.watchCount();
      expect(watchesBefore).toBe(3);
      server.expireWatches();
      await waitFor('watches re-established', () => server.watchCount() === 3);
      const live = server.get('AisPipeline', NS, 'watched')!;
      server.put({ ...live, spec: { ...(live.spec as object), api: { replicas: 3 } } });
      await waitFor('reconcile after the relist', () => gen() === 2);
      const text = await registry.metrics();
      expect(text).toMatch(/aisflow_operator_reconciles_total\{result="requeue"\} [1-9]/);
      expect(text).toMatch(/aisflow_operator_pipeline_condition\{namespace="[^"]+",pipeline="watched",type="Ready",status="False"\} 1/);
      expect(text).toContain('aisflow_operator_is_leader 1');
    } finally {
      all.push(...server.requests);
      await controller.stop();
    }
  });
});

describe('chart RBAC is exactly what the operator used in the tests above', () => {
  it('ClusterRole + leader-election Role rules equal the recorded API calls', () => {
    // A server-side apply that creates its object is authorised as `create` as well as `patch`.
    const used = new Set<string>();
    for (const r of all) {
      if (r.verb === 'discovery') continue;
      used.add(`${r.group}|${r.resource}|${r.verb}`);
      if (r.verb === 'patch') used.add(`${r.group}|${r.resource}|create`);
    }
    const granted = new Set<string>();
    for (const o of renderChart().filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const rule of (o as unknown as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }).rules) {
        for (const g of rule.apiGroups) for (const res of rule.resources) for (const v of rule.verbs) granted.add(`${g}|${res}|${v}`);
      }
    }
    expect([...granted].filter((g) => !used.has(g)).sort(), 'granted but never used').toEqual([]);
    expect([...used].filter((u) => !granted.has(u)).sort(), 'used but not granted').toEqual([]);
  });
});
