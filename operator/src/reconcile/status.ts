import type { AisPipelineStatus, ConditionT, Phase } from '../api/v1alpha1/aispipeline.schema.js';
import { isAutoscaled } from '../desired/apps.js';
import type { Pipeline } from '../desired/context.js';
import { PORTS, svcHost } from '../desired/endpoints.js';
import { childName, selectorLabels } from '../desired/labels.js';
import { natsStorageFit } from '../desired/nats.js';
import type { KubeObject } from '../k8s/kube.js';

export interface ComponentState {
  type: string;
  ok: boolean;
  reason: string;
  message: string;
}

export interface Observed {
  /** live objects after this pass's writes, by `Kind/name` */
  objects: Map<string, KubeObject>;
  /** problems this pass met (apply failures, external checks) */
  errors: string[];
  /** external checks: undefined = not run this pass */
  streams?: { ok: boolean; message: string };
  redisSlots?: { ok: boolean; message: string };
  /** a Redis Cluster scale-in waiting for its drain Job */
  redisScaleIn?: string;
}

type Workload = { spec?: { replicas?: number }; status?: { readyReplicas?: number; availableReplicas?: number; replicas?: number; succeeded?: number } };

function workload(o: Observed, kind: string, name: string): Workload | undefined {
  return o.objects.get(`${kind}/${name}`) as Workload | undefined;
}

function rollout(p: Pipeline, o: Observed, kind: 'Deployment' | 'StatefulSet', suffix: string, type: string): ComponentState {
  const w = workload(o, kind, childName(p.cr, suffix));
  if (!w) return { type, ok: false, reason: 'NotCreated', message: `${kind} ${childName(p.cr, suffix)} does not exist yet` };
  const want = w.spec?.replicas ?? 1;
  const ready = (kind === 'Deployment' ? w.status?.availableReplicas : w.status?.readyReplicas) ?? 0;
  return ready >= want
    ? { type, ok: true, reason: 'Available', message: `${ready}/${want} ready` }
    : { type, ok: false, reason: 'RollingOut', message: `${ready}/${want} ready` };
}

const external = (type: string): ComponentState => ({ type, ok: true, reason: 'External', message: 'provided outside the pipeline' });

/** One state per component; pure. */
export function componentStates(p: Pipeline, o: Observed): ComponentState[] {
  const s = p.spec;
  const states: ComponentState[] = [
    s.nats.mode === 'managed' ? rollout(p, o, 'StatefulSet', 'nats', 'NatsReady') : external('NatsReady'),
  ];
  if (s.redis.mode === 'external') states.push(external('RedisReady'));
  else {
    const r = rollout(p, o, 'StatefulSet', 'redis', 'RedisReady');
    if (r.ok && o.redisScaleIn) states.push({ type: 'RedisReady', ok: false, reason: 'ScalingIn', message: o.redisScaleIn });
    else if (r.ok && o.redisSlots && !o.redisSlots.ok) states.push({ type: 'RedisReady', ok: false, reason: 'SlotsUncovered', message: o.redisSlots.message });
    else states.push(r);
  }
  states.push(s.postgres.mode === 'managed' ? rollout(p, o, 'StatefulSet', 'postgres', 'PostgresReady') : external('PostgresReady'));
  states.push(rollout(p, o, 'Deployment', 'pgbouncer', 'PgBouncerReady'));
  states.push(rollout(p, o, 'Deployment', 'ingest', 'IngestReady'));
  states.push(rollout(p, o, 'Deployment', 'fusion', 'FusionAvailable'));
  states.push(rollout(p, o, 'Deployment', 'api', 'ApiReady'));
  if (o.streams) states.push({ type: 'StreamsReady', ok: o.streams.ok, reason: o.streams.ok ? 'InSync' : 'Drifted', message: o.streams.message });
  return states;
}

export interface StatusInput {
  pipeline: Pipeline;
  previous: AisPipelineStatus | undefined;
  now: string;
  paused: boolean;
  /** set when the spec is invalid: Degraded, nothing applied */
  invalidSpec?: string;
  observed?: Observed;
}

function condition(prev: ConditionT[] | undefined, type: string, ok: boolean | 'unknown', reason: string, message: string, generation: number, now: string): ConditionT {
  const status = ok === 'unknown' ? 'Unknown' : ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message: message.slice(0, 4000),
    // Kept when the status did not flip, so an unchanged pass writes nothing.
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
    observedGeneration: generation,
  };
}

/**
 * The status a pass should leave behind. Pure; `lastTransitionTime` only moves when a condition's
 * status changes, so equal inputs give an equal status and the reconciler can skip the write.
 */
export function computeStatus(i: StatusInput): AisPipelineStatus {
  const p = i.pipeline;
  const gen = p.cr.metadata.generation ?? 0;
  const prev = i.previous?.conditions;
  const c = (type: string, ok: boolean | 'unknown', reason: string, message: string) => condition(prev, type, ok, reason, message, gen, i.now);
  const keepOthers = (types: string[]) => (prev ?? []).filter((x) => !types.includes(x.type));

  if (i.paused) {
    const conds = [c('ReconciliationPaused', true, 'Paused', 'annotation aisflow.io/paused is "true": no changes are applied'), ...keepOthers(['ReconciliationPaused'])];
    return { ...i.previous, observedGeneration: gen, phase: 'Paused', conditions: sortConditions(conds) };
  }
  if (i.invalidSpec !== undefined) {
    const conds = [
      c('Ready', false, 'InvalidSpec', i.invalidSpec),
      c('Progressing', false, 'InvalidSpec', 'waiting for a valid spec'),
      c('Degraded', true, 'InvalidSpec', i.invalidSpec),
      ...keepOthers(['Ready', 'Progressing', 'Degraded', 'ReconciliationPaused']),
    ];
    return { ...i.previous, observedGeneration: gen, phase: 'Degraded', conditions: sortConditions(conds) };
  }
  const o = i.observed!;
  const states = componentStates(p, o);
  const notReady = states.filter((s) => !s.ok);
  const degraded = o.errors.length > 0 || (o.streams !== undefined && !o.streams.ok) || states.some((s) => s.reason === 'SlotsUncovered');
  const ready = notReady.length === 0 && !degraded;
  const phase: Phase = ready ? 'Ready' : degraded ? 'Degraded' : 'Progressing';
  const conds = [
    c('Ready', ready, ready ? 'AllComponentsReady' : degraded ? 'Degraded' : 'ComponentsNotReady', ready ? 'all components are ready' : notReady.map((s) => `${s.type}: ${s.message}`).concat(o.errors).join('; ')),
    c('Progressing', !ready && !degraded, ready ? 'Complete' : degraded ? 'Blocked' : 'RollingOut', ready ? 'nothing to roll out' : notReady.map((s) => s.type).join(', ') || 'errors block progress'),
    c('Degraded', degraded, degraded ? 'ReconcileErrors' : 'AsExpected', degraded ? o.errors.concat(notReady.filter((s) => s.reason === 'SlotsUncovered' || s.reason === 'Drifted').map((s) => s.message)).join('; ') : 'no errors'),
    ...states.map((s) => c(s.type, s.ok, s.reason, s.message)),
  ];
  // A warning, not a readiness problem: the pipeline runs until the disk is full.
  const fit = natsStorageFit(p);
  if (fit) conds.push(c('NatsStorageSufficient', fit.ok, fit.ok ? 'StreamsFitVolume' : 'StreamsExceedVolume', fit.message));
  const fusion = workload(o, 'Deployment', childName(p.cr, 'fusion'));
  const desired = isAutoscaled(p) ? (fusion?.spec?.replicas ?? p.spec.fusion.autoscaling.minReplicas) : p.spec.fusion.replicas;
  const readyReplicas = fusion?.status?.availableReplicas ?? 0;
  const sel = selectorLabels(p.cr, 'fusion');
  return {
    observedGeneration: gen,
    phase,
    conditions: sortConditions(conds),
    endpoints: {
      api: `http://${svcHost(p, 'api')}:${PORTS.api}`,
      ...(p.spec.nats.mode === 'managed' ? { nats: `nats://${svcHost(p, 'nats')}:${PORTS.nats}` } : {}),
      ...(p.spec.redis.mode !== 'external' ? { redis: `${svcHost(p, 'redis')}:${PORTS.redis}` } : {}),
      ...(p.spec.postgres.mode === 'managed' ? { postgres: `${svcHost(p, 'pgbouncer')}:${PORTS.pgbouncer}` } : {}),
    },
    fusion: {
      replicas: fusion?.status?.replicas ?? 0,
      readyReplicas,
      selector: Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(','),
      summary: `${readyReplicas}/${desired}`,
    },
  };
}

const ORDER = ['Ready', 'Progressing', 'Degraded', 'ReconciliationPaused'];
function sortConditions(c: ConditionT[]): ConditionT[] {
  const rank = (t: string) => (ORDER.includes(t) ? ORDER.indexOf(t) : ORDER.length);
  return [...c].sort((a, b) => rank(a.type) - rank(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Events for transitions between two statuses (pure). */
export function transitionEvents(prev: AisPipelineStatus | undefined, next: AisPipelineStatus): Array<{ type: 'Normal' | 'Warning'; reason: string; message: string }> {
  const get = (s: AisPipelineStatus | undefined, t: string) => s?.conditions?.find((c) => c.type === t);
  const out: Array<{ type: 'Normal' | 'Warning'; reason: string; message: string }> = [];
  const wasReady = get(prev, 'Ready')?.status === 'True';
  const isReady = get(next, 'Ready')?.status === 'True';
  if (!wasReady && isReady) out.push({ type: 'Normal', reason: 'PipelineReady', message: 'all components are ready' });
  if (wasReady && !isReady && next.phase !== 'Paused') out.push({ type: 'Warning', reason: 'PipelineNotReady', message: get(next, 'Ready')?.message ?? '' });
  const wasDegraded = get(prev, 'Degraded');
  const degraded = get(next, 'Degraded');
  if (degraded?.status === 'True' && (wasDegraded?.status !== 'True' || wasDegraded.reason !== degraded.reason)) {
    out.push({ type: 'Warning', reason: degraded.reason === 'InvalidSpec' ? 'InvalidSpec' : 'PipelineDegraded', message: degraded.message });
  }
  const storage = get(next, 'NatsStorageSufficient');
  if (storage?.status === 'False' && get(prev, 'NatsStorageSufficient')?.status !== 'False') out.push({ type: 'Warning', reason: 'NatsStorageInsufficient', message: storage.message });
  const wasPaused = prev?.phase === 'Paused';
  if (!wasPaused && next.phase === 'Paused') out.push({ type: 'Normal', reason: 'ReconciliationPaused', message: 'reconciliation paused by annotation' });
  if (wasPaused && next.phase !== 'Paused') out.push({ type: 'Normal', reason: 'ReconciliationResumed', message: 'reconciliation resumed' });
  return out;
}
