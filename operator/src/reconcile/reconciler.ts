import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../../pipeline/src/shared/clock.js';
import type { OperatorMetrics } from '../../../pipeline/src/telemetry/metrics/operator.js';
import { API_VERSION, KIND, type AisPipeline, type AisPipelineStatus } from '../api/v1alpha1/aispipeline.schema.js';
import { specProblems } from '../api/v1alpha1/defaults.js';
import type { BuildContext } from '../desired/context.js';
import { credentialsSecret, redisNodes, svcHost, PORTS } from '../desired/endpoints.js';
import type { KIND_ORDER} from '../desired/index.js';
import { desiredObjects, toPipeline, type DesiredObject, type Pipeline } from '../desired/index.js';
import { FIELD_MANAGER, FINALIZER, PAUSED_ANNOTATION, PIPELINE_LABEL } from '../desired/labels.js';
import { leavingRedisNodes, redisClusterJob } from '../desired/redis.js';

/** Field manager that briefly co-owns fusion's replicas when autoscaling takes over. */
export const HANDOVER_MANAGER = 'aisflow-operator-handover';
import type { Kube, KubeObject } from '../k8s/kube.js';
import { contains } from './diff.js';
import { EventReason } from './events.js';
import { computeStatus, transitionEvents, type Observed } from './status.js';
import type { StreamJanitor } from './streams.js';

/** The three outcomes of a pass (controller-runtime): a thrown error means "transient, back off". */
export type Outcome = { kind: 'done' } | { kind: 'requeueAfter'; ms: number } | { kind: 'terminal'; reason: string };

/** apiVersion of each kind the operator owns (list + prune). */
export const OWNED_KINDS: ReadonlyArray<{ apiVersion: string; kind: (typeof KIND_ORDER)[number] }> = [
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' },
];

export interface RedisSlotChecker {
  /** Are all 16384 slots served by reachable primaries? */
  check(nodes: string[], password: string | undefined): Promise<{ ok: boolean; message: string }>;
}

export interface ReconcilerDeps {
  kube: Kube;
  context: Omit<BuildContext, 'credentials'>;
  clock: Clock;
  logger: Logger;
  /** JetStream streams (stream drift, finalizer); absent = not checked. */
  streams?: StreamJanitor;
  /** Redis Cluster slot coverage; absent = not checked. */
  redisSlots?: RedisSlotChecker;
  /** Where the operator reaches a managed NATS (default: the in-cluster Service). */
  managedNatsUrl?: (p: Pipeline) => string;
  /** Random credential generator (tests inject a fixed one). */
  generateSecret?: () => string;
  /** Requeue while components roll out. @default 15 s */
  progressingRequeueMs?: number;
  /** Periodic resync of a ready pipeline (re-checks external state). @default 5 min */
  resyncMs?: number;
  metrics?: OperatorMetrics;
}

const key = (o: { kind?: string; metadata?: { name?: string } }) => `${o.kind}/${o.metadata?.name}`;

/**
 * One level-based pass over one AisPipeline: read the CR and everything it owns, build the
 * desired objects, apply what differs (server-side apply), prune what is no longer wanted, check
 * the state outside Kubernetes, and write the status if it changed. Never acts on a watch event's
 * payload: the world is re-read on every pass.
 */
export class Reconciler {
  private eventSeq = 0;
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<Outcome> {
    const { kube } = this.deps;
    const cr = await kube.getPipeline(namespace, name);
    if (!cr) return { kind: 'done' }; // gone: children follow through owner references

    if (cr.metadata.deletionTimestamp) return this.finalize(cr);

    if (cr.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') {
      await this.writeStatus(cr, computeStatus({ pipeline: toPipeline(cr), previous: cr.status, now: this.now(), paused: true }));
      return { kind: 'done' };
    }

    const invalid = this.validate(cr);
    if (invalid) {
      await this.writeStatus(cr, computeStatus({ pipeline: { cr, spec: cr.spec as never }, previous: cr.status, now: this.now(), paused: false, invalidSpec: invalid }));
      // A spec that cannot work will not start working by retrying: wait for the next edit.
      return { kind: 'terminal', reason: invalid };
    }

    const p = toPipeline(cr);
    const current = await this.ensureFinalizer(p);

    // Read everything we own (one list per kind), then build and apply.
    const selector = `${PIPELINE_LABEL}=${name}`;
    const live = new Map<string, KubeObject>();
    for (const { apiVersion, kind } of OWNED_KINDS) {
      for (const o of await kube.list(apiVersion, kind, namespace, selector)) live.set(key(o), o);
    }
    const credentials = this.credentials(live.get(`Secret/${credentialsSecret(p)}`));
    const redisLive = this.redisLive(p, live);
    const desired = desiredObjects(current, { ...this.deps.context, credentials, ...(redisLive ? { redisLive } : {}) });

    const observed: Observed = { objects: new Map(), errors: [] };
    const leaving = leavingRedisNodes(p, { ...(redisLive ? { redisLive } : {}) });
    if (leaving.length > 0) observed.redisScaleIn = `draining ${leaving.length} Redis member(s) before the StatefulSet shrinks: ${leaving.map((n) => n.split('.')[0]).join(', ')}`;
    for (const d of desired) {
      const existing = live.get(key(d));
      if (existing && this.mustHandOverReplicas(p, d, existing)) {
        // Switching to autoscaling: if we simply stopped applying spec.replicas, SSA would drop
        // the field (nobody else owns it yet) and the Deployment would fall back to 1 replica.
        // A second manager applies the current count first, so the field outlives our release
        // and the autoscaler takes it from there (the handover the SSA docs describe).
        await kube.apply({ apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata.name, namespace: d.metadata.namespace }, spec: { replicas: (existing.spec as { replicas: number }).replicas } } as KubeObject, HANDOVER_MANAGER);
        observed.objects.set(key(d), await kube.apply(d as unknown as KubeObject));
        continue;
      }
      if (existing && contains(existing, d)) {
        observed.objects.set(key(d), existing);
        continue;
      }
      try {
        observed.objects.set(key(d), await kube.apply(d as unknown as KubeObject));
      } catch (err) {
        // A missing optional CRD (KEDA, Prometheus Operator) must not block the rest.
        if ((err as { statusCode?: number }).statusCode === 404) {
          observed.errors.push(`${d.kind} ${d.metadata.name}: the ${d.apiVersion} API is not installed in this cluster`);
          continue;
        }
        throw err;
      }
    }

    await this.prune(current, live, desired);

    if (this.deps.streams && this.natsReachable(p, observed)) {
      const url = await this.natsUrl(p);
      observed.streams = url ? await this.deps.streams.sync(url, p) : { ok: false, message: 'the NATS URL Secret is missing' };
    }
    if (this.deps.redisSlots && p.spec.redis.mode === 'cluster' && this.statefulSetReady(observed, `${p.cr.metadata.name}-redis`)) {
      observed.redisSlots = await this.deps.redisSlots.check(redisNodes(p), credentials.redisPassword);
      // Repair: a finished redis-cluster Job is removed so the next pass runs it again (Job
      // templates are immutable; the state machine picks up from live state). A running one is
      // left to finish.
      const job = [...observed.objects.values()].find((o) => o.kind === 'Job' && o.metadata.name?.startsWith(`${name}-redis-cluster-`));
      const js = job?.status as { succeeded?: number; failed?: number; active?: number } | undefined;
      if (!observed.redisSlots.ok && job && !js?.active && ((js?.succeeded ?? 0) > 0 || (js?.failed ?? 0) > 0)) {
        await kube.delete(job);
        observed.redisSlots = { ok: false, message: `${observed.redisSlots.message}; re-running ${job.metadata.name}` };
      }
    }

    if (leaving.length > 0) {
      // A drain Job that gave up (backoffLimit) is run again: the state machine resumes from live
      // state, and the pods must not go until it succeeds.
      const drain = [...observed.objects.values()].find((o) => o.kind === 'Job' && o.metadata.name?.startsWith(`${name}-redis-cluster-`));
      const conditions = (drain?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
      if (drain && conditions.some((c) => c.type === 'Failed' && c.status === 'True')) {
        await kube.delete(drain);
        observed.redisScaleIn = `${observed.redisScaleIn}; the drain Job ${drain.metadata.name} failed and is run again (see its log)`;
      }
    }

    const status = computeStatus({ pipeline: p, previous: current.status, now: this.now(), paused: false, observed });
    await this.writeStatus(current, status);
    if (status.phase === 'Ready') return { kind: 'requeueAfter', ms: this.deps.resyncMs ?? 300_000 };
    return { kind: 'requeueAfter', ms: this.deps.progressingRequeueMs ?? 15_000 };
  }

  /**
   * A Redis Cluster scale-in: the live StatefulSet has more pods than the spec wants. They go
   * only after the drain Job for exactly that size succeeded (its name hashes its arguments).
   */
  private redisLive(p: Pipeline, live: Map<string, KubeObject>): { pods: number; drained: boolean } | undefined {
    if (p.spec.redis.mode !== 'cluster') return undefined;
    const pods = (live.get(`StatefulSet/${p.cr.metadata.name}-redis`)?.spec as { replicas?: number } | undefined)?.replicas;
    if (pods === undefined) return undefined;
    const drainJob = redisClusterJob(p, undefined, leavingRedisNodes(p, { redisLive: { pods, drained: false } }));
    const status = live.get(`Job/${drainJob.metadata.name}`)?.status as { succeeded?: number } | undefined;
    return { pods, drained: (status?.succeeded ?? 0) > 0 };
  }

  /** Autoscaled fusion whose live Deployment still has spec.replicas applied by us. */
  private mustHandOverReplicas(p: Pipeline, d: DesiredObject, live: KubeObject): boolean {
    if (d.kind !== 'Deployment' || d.metadata.name !== `${p.cr.metadata.name}-fusion` || p.spec.fusion.autoscaling.mode === 'none') return false;
    if ((live.spec as { replicas?: number } | undefined)?.replicas === undefined) return false;
    const fields = (live.metadata.managedFields ?? []) as Array<{ manager?: string; operation?: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }>;
    return fields.some((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined);
  }

  /** Problems the API server should have rejected (old CRs, or a CRD without our rules). */
  private validate(cr: AisPipeline): string | undefined {
    const p = toPipeline(cr);
    const problems = specProblems(p.spec);
    const a = p.spec.fusion?.autoscaling;
    if (a && a.minReplicas > a.maxReplicas) problems.push(`spec.fusion.autoscaling: minReplicas ${a.minReplicas} > maxReplicas ${a.maxReplicas}`);
    for (const [component, mode, ext] of [
      ['postgres', p.spec.postgres?.mode, p.spec.postgres?.external],
      ['redis', p.spec.redis?.mode, p.spec.redis?.external],
      ['nats', p.spec.nats?.mode, p.spec.nats?.external],
    ] as const) {
      if ((mode === 'external') !== (ext !== undefined)) problems.push(`spec.${component}: external settings are required exactly when mode is external`);
    }
    return problems.length > 0 ? problems.join('; ') : undefined;
  }

  /** The finalizer exists only while there is something outside Kubernetes to clean up. */
  private async ensureFinalizer(p: Pipeline): Promise<AisPipeline> {
    const wants = p.spec.deletionPolicy === 'Delete' && this.deps.streams !== undefined;
    const has = p.cr.metadata.finalizers?.includes(FINALIZER) ?? false;
    if (wants === has) return p.cr;
    const finalizers = wants ? [...(p.cr.metadata.finalizers ?? []), FINALIZER] : (p.cr.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    return this.deps.kube.replacePipeline({ ...p.cr, metadata: { ...p.cr.metadata, finalizers } });
  }

  private async finalize(cr: AisPipeline): Promise<Outcome> {
    if (!cr.metadata.finalizers?.includes(FINALIZER)) return { kind: 'done' };
    const p = toPipeline(cr);
    if (p.spec.deletionPolicy === 'Delete' && this.deps.streams) {
      const url = await this.natsUrl(p);
      if (url) {
        const deleted = await this.deps.streams.delete(url, p); // throws: transient, retried with backoff
        await this.event(cr, { type: 'Normal', reason: EventReason.StreamsDeleted, message: `deleted JetStream streams: ${deleted.join(', ') || '(none left)'}` });
      }
    }
    await this.deps.kube.replacePipeline({ ...cr, metadata: { ...cr.metadata, finalizers: cr.metadata.finalizers.filter((f) => f !== FINALIZER) } });
    return { kind: 'done' };
  }

  private async prune(cr: AisPipeline, live: Map<string, KubeObject>, desired: DesiredObject[]): Promise<void> {
    const wanted = new Set(desired.map(key));
    for (const [k, o] of live) {
      if (wanted.has(k)) continue;
      // Only what we created for this very CR (same uid): never someone else's look-alike.
      const owners = (o.metadata.ownerReferences ?? []) as Array<{ uid?: string; controller?: boolean }>;
      if (!owners.some((r) => r.controller && r.uid === cr.metadata.uid)) continue;
      // Finished Jobs are history, not drift; a Job is replaced by name (hash), and the old one
      // is pruned only once it is no longer running.
      if (o.kind === 'Job' && !((o.status as { completionTime?: string; failed?: number } | undefined)?.completionTime) && ((o.status as { active?: number } | undefined)?.active ?? 0) > 0) continue;
      await this.deps.kube.delete(o);
    }
  }

  private natsReachable(p: Pipeline, o: Observed): boolean {
    return p.spec.nats.mode === 'external' || this.statefulSetReady(o, `${p.cr.metadata.name}-nats`);
  }

  private statefulSetReady(o: Observed, name: string): boolean {
    const s = o.objects.get(`StatefulSet/${name}`) as { spec?: { replicas?: number }; status?: { readyReplicas?: number } } | undefined;
    return !!s && (s.status?.readyReplicas ?? 0) >= (s.spec?.replicas ?? 1);
  }

  private async natsUrl(p: Pipeline): Promise<string | undefined> {
    const ext = p.spec.nats.external;
    if (p.spec.nats.mode === 'external' && ext) return this.deps.kube.readSecretKey(p.cr.metadata.namespace, ext.urlSecretRef.name, ext.urlSecretRef.key);
    return this.deps.managedNatsUrl?.(p) ?? `nats://${svcHost(p, 'nats')}:${PORTS.nats}`;
  }

  /** Existing generated credentials, or new ones (generated once, then read back every pass). */
  private credentials(secret: KubeObject | undefined): BuildContext['credentials'] {
    const data = (secret?.data ?? {}) as Record<string, string>;
    const gen = this.deps.generateSecret ?? (() => randomBytes(24).toString('base64url'));
    const read = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : gen());
    return { postgresPassword: read('postgres-password'), redisPassword: read('redis-password'), adminToken: read('admin-token') };
  }

  private async writeStatus(cr: AisPipeline, next: AisPipelineStatus): Promise<void> {
    for (const c of next.conditions ?? []) {
      for (const s of ['True', 'False', 'Unknown'] as const) {
        this.deps.metrics?.pipelineCondition.set({ namespace: cr.metadata.namespace, pipeline: cr.metadata.name, type: c.type, status: s }, c.status === s ? 1 : 0);
      }
    }
    if (JSON.stringify(normalizeStatus(cr.status)) === JSON.stringify(normalizeStatus(next))) return;
    await this.deps.kube.replaceStatus({ ...cr, status: next });
    for (const e of transitionEvents(cr.status, next)) await this.event(cr, e);
  }

  private async event(cr: AisPipeline, e: { type: 'Normal' | 'Warning'; reason: string; message: string }): Promise<void> {
    const now = this.now();
    try {
      await this.deps.kube.createEvent(cr.metadata.namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${cr.metadata.name}.${this.deps.clock.now().toString(16)}${(this.eventSeq++).toString(16)}`, namespace: cr.metadata.namespace },
        involvedObject: { apiVersion: API_VERSION, kind: KIND, name: cr.metadata.name, namespace: cr.metadata.namespace, uid: cr.metadata.uid },
        type: e.type,
        reason: e.reason,
        // Messages come from conditions, which never hold credentials.
        message: e.message.slice(0, 1024),
        source: { component: 'aisflow-operator' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err) {
      // Events are best effort: losing one must not fail the pass.
      this.deps.logger.warn({ err, reason: e.reason }, 'could not record event');
    }
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

/** Key order does not matter for "did the status change". */
function normalizeStatus(s: AisPipelineStatus | undefined): unknown {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]));
    return v;
  };
  return sortKeys(s ?? {});
}

