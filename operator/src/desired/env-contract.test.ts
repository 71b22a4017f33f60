import { readFileSync } from 'node:fs';
import type { TObject } from '@sinclair/typebox';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ApiEnv } from '../../../pipeline/src/config/api.js';
import { FusionEnv } from '../../../pipeline/src/config/fusion.js';
import { IngestEnv, parseSourcesDocument } from '../../../pipeline/src/config/ingest.js';
import { loadConfig } from '../../../pipeline/src/config/load-config.js';
import { MigrateEnv } from '../../../pipeline/src/config/store.js';
import type { AisPipeline } from '../api/v1alpha1/aispipeline.schema.js';
import { desiredObjects, type DesiredObject } from './index.js';
import { TEST_CONTEXT } from './test-context.js';

/**
 * The contract with the data plane: the environment the operator gives each container must pass
 * that process's own config schema (loadConfig rejects unknown AISFLOW_* variables and bad
 * values), and the ingest sources ConfigMap must parse as a sources document.
 */
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown } };

/** The env a container would see: Secret values stand in as plausible strings, `$(VAR)` expanded like the kubelet. */
function containerEnv(o: DesiredObject): Record<string, string> {
  const c = (o.spec as { template: { spec: { containers: Array<{ env: EnvVar[] }> } } }).template.spec.containers[0]!;
  const env: Record<string, string> = {};
  for (const e of c.env) {
    const secret = e.valueFrom?.secretKeyRef;
    let v = e.value ?? (secret ? secretValue(e.name, secret.key) : 'pod-0');
    v = v.replace(/\$\(([A-Z_]+)\)/g, (_m, name: string) => env[name] ?? `$(${name})`);
    env[e.name] = v;
  }
  return env;
}

function secretValue(envName: string, key: string): string {
  if (envName === 'AISFLOW_NATS_URL') return 'nats://nats.example:4222';
  if (envName === 'AISFLOW_REDIS_URL') return 'redis://redis.example:6379';
  if (envName === 'AISFLOW_REDIS_CLUSTER_NODES') return 'r1.example:6379,r2.example:6379';
  if (key === 'port') return '5432';
  return `secret-${key}`;
}

const schemas: Record<string, TObject> = { ingest: IngestEnv, fusion: FusionEnv, api: ApiEnv, migrate: MigrateEnv };

describe.each(['minimal', 'production', 'external-databases'])('env contract (%s)', (name) => {
  const cr = parse(readFileSync(`crds/examples/${name}.yaml`, 'utf8')) as AisPipeline;
  const objects = desiredObjects(cr, TEST_CONTEXT);

  it.each(['ingest', 'fusion', 'api', 'migrate'])('%s accepts the environment it is given', (component) => {
    const workload = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'Job') && o.metadata.labels['app.kubernetes.io/component'] === component)!;
    let env = containerEnv(workload);
    // bin/ingest.ts sets the AISFLOW_SECRET_* source keys aside before validating.
    if (component === 'ingest') env = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AISFLOW_SECRET_')));
    const config = loadConfig(schemas[component]!, env) as Record<string, unknown>;
    if (component === 'fusion' || component === 'api' || component === 'migrate') expect(String(config.AISFLOW_POSTGRES_URL)).toMatch(/^postgres:\/\/[^$]+$/);
  });

  it('the ingest sources ConfigMap is a valid sources document, with secrets by env name', () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-ingest-sources'))!;
    const doc = parseSourcesDocument((cm.data as Record<string, string>)['sources.json']!);
    expect(doc.sources.map((s) => s.id)).toEqual((cr.spec.ingest as { sources: Array<{ id: string }> }).sources.map((s) => s.id));
    const ingest = objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-ingest'))!;
    const envNames = containerEnv(ingest);
    for (const s of doc.sources) if ('apiKeyEnv' in s && s.apiKeyEnv) expect(envNames).toHaveProperty(s.apiKeyEnv);
  });
});
