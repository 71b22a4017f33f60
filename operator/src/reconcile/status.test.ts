import { describe, expect, it } from 'vitest';
import type { AisPipeline } from '../api/v1alpha1/aispipeline.schema.js';
import { toPipeline } from '../desired/index.js';
import type { KubeObject } from '../k8s/kube.js';
import { computeStatus, transitionEvents, type Observed } from './status.js';

const cr = (generation: number): AisPipeline => ({
  apiVersion: 'aisflow.io/v1alpha1',
  kind: 'AisPipeline',
  metadata: { name: 'p', namespace: 'ais', generation },
  spec: { nats: { mode: 'external', external: { urlSecretRef: { name: 'n', key: 'url' } } }, redis: { mode: 'external', external: { secretRef: { name: 'r' } } }, postgres: { mode: 'external', external: { secretRef: { name: 'pg' } } } } as never,
});

function observed(ready: boolean): Observed {
  const objects = new Map<string, KubeObject>();
  for (const [name, replicas] of [['p-pgbouncer', 2], ['p-ingest', 1], ['p-fusion', 2], ['p-api', 2]] as const) {
    objects.set(`Deployment/${name}`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas }, status: { replicas, availableReplicas: ready ? replicas : 0 } } as never);
  }
  return { objects, errors: [] };
}

describe('computeStatus', () => {
  it('is Ready only when every component is, with observedGeneration on each condition', () => {
    const s = computeStatus({ pipeline: toPipeline(cr(3)), previous: undefined, now: 't1', paused: false, observed: observed(true) });
    expect(s.phase).toBe('Ready');
    expect(s.observedGeneration).toBe(3);
    expect(s.conditions!.map((c) => c.type).slice(0, 3)).toEqual(['Ready', 'Progressing', 'Degraded']);
    expect(s.conditions!.every((c) => c.observedGeneration === 3)).toBe(true);
    expect(s.conditions!.find((c) => c.type === 'NatsReady')).toMatchObject({ status: 'True', reason: 'External' });
    expect(s.fusion).toEqual({ replicas: 2, readyReplicas: 2, selector: 'aisflow.io/pipeline=p,app.kubernetes.io/component=fusion', summary: '2/2' });
  });

  it('keeps lastTransitionTime when nothing flipped, so an unchanged pass is an equal status', () => {
    const a = computeStatus({ pipeline: toPipeline(cr(1)), previous: undefined, now: 't1', paused: false, observed: observed(false) });
    const b = computeStatus({ pipeline: toPipeline(cr(1)), previous: a, now: 't2', paused: false, observed: observed(false) });
    expect(b).toEqual(a);
    const c = computeStatus({ pipeline: toPipeline(cr(1)), previous: b, now: 't3', paused: false, observed: observed(true) });
    expect(c.conditions!.find((x) => x.type === 'Ready')!.lastTransitionTime).toBe('t3');
    expect(c.conditions!.find((x) => x.type === 'Degraded')!.lastTransitionTime).toBe('t1');
  });

  it('errors make it Degraded; events only on transitions', () => {
    const ready = computeStatus({ pipeline: toPipeline(cr(1)), previous: undefined, now: 't1', paused: false, observed: observed(true) });
    const broken = computeStatus({ pipeline: toPipeline(cr(1)), previous: ready, now: 't2', paused: false, observed: { ...observed(true), errors: ['ServiceMonitor x: the monitoring.coreos.com/v1 API is not installed in this cluster'] } });
    expect(broken.phase).toBe('Degraded');
    expect(transitionEvents(undefined, ready).map((e) => e.reason)).toEqual(['PipelineReady']);
    expect(transitionEvents(ready, broken).map((e) => e.reason)).toEqual(['PipelineNotReady', 'PipelineDegraded']);
    expect(transitionEvents(broken, broken)).toEqual([]);
  });

  it('warns, without holding readiness, when the NATS streams can fill the managed NATS volume', () => {
    const managed = (nats: Record<string, unknown>): AisPipeline => ({ ...cr(1), spec: { ...cr(1).spec, nats: { mode: 'managed', ...nats } } as never });
    const status = (nats: Record<string, unknown>, previous?: ReturnType<typeof computeStatus>) =>
      computeStatus({ pipeline: toPipeline(managed(nats)), previous, now: 't', paused: false, observed: observed(true) });
    const storage = (s: ReturnType<typeof computeStatus>) => s.conditions!.find((c) => c.type === 'NatsStorageSufficient');

    // the defaults: an 8 GiB stream and the 256 MiB DLQ on a 10Gi volume
    expect(storage(status({}))).toMatchObject({ status: 'True', reason: 'StreamsFitVolume', message: 'the streams may hold 8.25 GiB of each 10.00 GiB volume' });
    const fits = status({ stream: { maxBytes: 40 * 2 ** 30 }, storage: { size: '50Gi' } });
    expect(storage(fits)).toMatchObject({ status: 'True' });

    // the old default: 10 GiB of stream on a 10Gi volume
    const full = status({ stream: { maxBytes: 10 * 2 ** 30 } }, fits);
    expect(storage(full)).toMatchObject({ status: 'False', reason: 'StreamsExceedVolume' });
    expect(storage(full)!.message).toContain('lower nats.stream.maxBytes to at most 8858370048 bytes');
    expect(transitionEvents(fits, full)).toEqual([{ type: 'Warning', reason: 'NatsStorageInsufficient', message: storage(full)!.message }]);
    expect(transitionEvents(full, status({ stream: { maxBytes: 10 * 2 ** 30 } }, full))).toEqual([]);
    // a storage warning is not a component failure: phase and readiness are those of the fitting spec
    expect(full.phase).toBe(fits.phase);
    expect(full.conditions!.find((c) => c.type === 'Ready')).toEqual(fits.conditions!.find((c) => c.type === 'Ready'));

    expect(storage(computeStatus({ pipeline: toPipeline(cr(1)), previous: undefined, now: 't', paused: false, observed: observed(true) }))).toBeUndefined();
  });

  it('paused and invalid-spec statuses', () => {
    const paused = computeStatus({ pipeline: toPipeline(cr(2)), previous: undefined, now: 't', paused: true });
    expect(paused.phase).toBe('Paused');
    const invalid = computeStatus({ pipeline: toPipeline(cr(2)), previous: undefined, now: 't', paused: false, invalidSpec: 'spec.x: bad' });
    expect(invalid.conditions!.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: 'spec.x: bad' });
  });
});
