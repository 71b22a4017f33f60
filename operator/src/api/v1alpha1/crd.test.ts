import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { applyStructuralDefaults, celViolations } from '../../../../test/harness/crd-cel.js';
import { buildCrd, renderCrdYaml } from './crd.js';
import { specProblems, withDefaults } from './defaults.js';

const crd = buildCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> } };
const root = crd.spec.versions[0]!.schema.openAPIV3Schema as { properties: { spec: never } };
const specSchema = root.properties.spec;

const example = (name: string) => parse(readFileSync(`crds/examples/${name}.yaml`, 'utf8')) as { spec: Record<string, unknown> };
/** Like the API server: defaults first, then CEL. */
const violations = (spec: unknown, oldSpec?: unknown) =>
  celViolations(
    specSchema,
    applyStructuralDefaults(specSchema, spec),
    oldSpec === undefined ? undefined : applyStructuralDefaults(specSchema, oldSpec),
  ).map((v) => `${v.path}: ${v.message}`);

describe('generated CRD', () => {
  it.each(['crds/aispipeline.yaml', 'charts/aisflow-operator/crds/aispipeline.yaml'])(
    '%s matches a fresh build (run `npx tsx scripts/gen/crd.ts` after changing the schema)',
    (path) => {
      expect(readFileSync(path, 'utf8')).toBe(renderCrdYaml());
    },
  );

  it('is structural: every object node has a type, no empty properties, no oneOf/anyOf/additionalProperties:false', () => {
    const bad: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (!('type' in node) && !('x-kubernetes-int-or-string' in node)) bad.push(`${path}: no type`);
      if ('anyOf' in node || 'oneOf' in node || 'allOf' in node) bad.push(`${path}: union`);
      if (node.additionalProperties === false) bad.push(`${path}: additionalProperties false`);
      const props = node.properties as Record<string, Record<string, unknown>> | undefined;
      if (props && Object.keys(props).length === 0) bad.push(`${path}: empty properties`);
      for (const [k, v] of Object.entries(props ?? {})) walk(v, `${path}.${k}`);
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
      if (node.type === 'string' && !('enum' in node) && !('maxLength' in node) && path.startsWith('.spec')) bad.push(`${path}: unbounded string`);
    };
    walk(root as never, '');
    expect(bad).toEqual([]);
  });

  it('has status and scale subresources and the printer columns', () => {
    const v = (crd.spec.versions[0] as unknown as { subresources: Record<string, unknown>; additionalPrinterColumns: Array<{ name: string }> });
    expect(Object.keys(v.subresources)).toEqual(['status', 'scale']);
    expect(v.additionalPrinterColumns.map((c) => c.name)).toEqual(['Ready', 'Phase', 'Fusion', 'Age']);
  });
});

describe('examples', () => {
  it.each(['minimal', 'production', 'external-databases'])('%s passes the schema and every CEL rule', (name) => {
    const spec = example(name).spec;
    expect(specProblems(withDefaults(spec as never))).toEqual([]);
    expect(violations(spec)).toEqual([]);
  });

  it('the YAML files hold one document each', () => {
    for (const name of ['minimal', 'production', 'external-databases']) {
      expect(parseAllDocuments(readFileSync(`crds/examples/${name}.yaml`, 'utf8'))).toHaveLength(1);
    }
  });
});

describe('CEL rules', () => {
  const base = example('minimal').spec;
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['min > max replicas', { fusion: { autoscaling: { mode: 'hpa', minReplicas: 5, maxReplicas: 3 } } }, ['.fusion.autoscaling: autoscaling.minReplicas must be <= autoscaling.maxReplicas']],
    ['replicas above max when autoscaled', { fusion: { replicas: 9, autoscaling: { mode: 'hpa', maxReplicas: 4 } } }, ['.fusion: fusion.replicas must be <= autoscaling.maxReplicas']],
    ['replicas above max ignored without autoscaling', { fusion: { replicas: 9, autoscaling: { maxReplicas: 4 } } }, []],
    ['external postgres without its secret', { postgres: { mode: 'external' } }, ['.postgres: postgres.external is required when postgres.mode is external and forbidden otherwise']],
    ['managed postgres with external set', { postgres: { external: { secretRef: { name: 'pg' } } } }, ['.postgres: postgres.external is required when postgres.mode is external and forbidden otherwise']],
    ['external postgres with storage', { postgres: { mode: 'external', external: { secretRef: { name: 'pg' } }, storage: { size: '1Gi' } } }, ['.postgres: postgres.storage only applies to managed Postgres']],
    ['external redis without secret', { redis: { mode: 'external' } }, ['.redis: redis.external is required when redis.mode is external and forbidden otherwise']],
    ['standalone redis with cluster settings', { redis: { mode: 'standalone', cluster: { shards: 3 } } }, ['.redis: redis.cluster only applies when redis.mode is cluster']],
    ['external nats with storage', { nats: { mode: 'external', external: { urlSecretRef: { name: 'n', key: 'url' } }, storage: { size: '1Gi' } } }, ['.nats: nats.storage only applies to managed NATS']],
    ['external nats with resources', { nats: { mode: 'external', external: { urlSecretRef: { name: 'n', key: 'url' } }, resources: { limits: { cpu: '1' } } } }, ['.nats: nats.resources only applies to managed NATS']],
    ['duplicate source ids', { ingest: { sources: [{ id: 'a', kind: 'tcp', address: 'x:1' }, { id: 'a', kind: 'udp', address: 'y:2' }] } }, ['.ingest.sources: source ids must be unique']],
    ['tcp source with credentials', { ingest: { sources: [{ id: 'f', kind: 'tcp', address: 'h:1', credentialsSecretRef: { name: 's', key: 'k' } }] } }, ['.ingest.sources[0]: only websocket sources take credentials']],
    ['websocket source with credentials', { ingest: { sources: [{ id: 'w', kind: 'websocket', address: 'wss://x', credentialsSecretRef: { name: 's', key: 'k' } }] } }, []],
  ];
  it.each(cases)('%s', (_name, patch, expected) => {
    expect(violations({ ...base, ...patch })).toEqual(expected);
  });

  it('storage settings and partitions are immutable on update, free on create', () => {
    const created = { ...base, postgres: { storage: { size: '10Gi' } }, fusion: { partitions: 64 } };
    expect(violations(created, created)).toEqual([]);
    const resized = { ...created, postgres: { storage: { size: '20Gi' } }, fusion: { partitions: 32 } };
    expect(violations(resized)).toEqual([]);
    expect(violations(resized, created)).toEqual([
      '.fusion.partitions: fusion.partitions is immutable',
      '.postgres.storage: storage settings are immutable once created',
    ]);
  });
});
