import { createHash } from 'node:crypto';
import { API_VERSION, KIND, type AisPipeline } from '../api/v1alpha1/aispipeline.schema.js';

/** The label every child carries; the operator lists and prunes by it. */
export const PIPELINE_LABEL = 'aisflow.io/pipeline';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const CONFIG_HASH_ANNOTATION = 'aisflow.io/config-hash';
export const PAUSED_ANNOTATION = 'aisflow.io/paused';
export const FINALIZER = 'aisflow.io/external-resources';
export const FIELD_MANAGER = 'aisflow-operator';

export type Component = 'nats' | 'redis' | 'postgres' | 'pgbouncer' | 'ingest' | 'fusion' | 'api' | 'migrate' | 'monitoring' | 'credentials';

/**
 * Labels of every child object. Deliberately NOT copied from the CR, and no
 * `app.kubernetes.io/instance`: Argo CD tracks its applications with that label by default, and a
 * child carrying the CR's tracking label is pruned by Argo CD and recreated by us, forever
 * (argocd-operator#414, falco-operator#349).
 */
export function labels(p: AisPipeline, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'aisflow',
    'app.kubernetes.io/part-of': 'aisflow',
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    [COMPONENT_LABEL]: component,
    [PIPELINE_LABEL]: p.metadata.name,
  };
}

/** The stable subset used in selectors (selectors are immutable on Deployments/StatefulSets). */
export function selectorLabels(p: AisPipeline, component: Component): Record<string, string> {
  return { [PIPELINE_LABEL]: p.metadata.name, [COMPONENT_LABEL]: component };
}

export function ownerReference(p: AisPipeline) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: p.metadata.name,
    uid: p.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** `<pipeline>-<component>`, e.g. `coastal-fusion`. */
export function childName(p: AisPipeline, suffix: string): string {
  return `${p.metadata.name}-${suffix}`;
}

export function metadata(p: AisPipeline, component: Component, name: string, annotations?: Record<string, string>) {
  return {
    name,
    namespace: p.metadata.namespace,
    labels: labels(p, component),
    ...(annotations ? { annotations } : {}),
    ownerReferences: [ownerReference(p)],
  };
}

/** Short stable hash of any JSON value (config-hash annotations, Job names). */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 10);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
