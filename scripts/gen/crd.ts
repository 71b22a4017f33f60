// Writes crds/aispipeline.yaml and the chart's copy from the TypeBox schema.
// A unit test (operator/src/api/v1alpha1/crd.test.ts) fails when the committed files differ.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml } from '../../operator/src/api/v1alpha1/crd.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CRD_PATHS = ['crds/aispipeline.yaml', 'charts/aisflow-operator/crds/aispipeline.yaml'];

const yaml = renderCrdYaml();
for (const rel of CRD_PATHS) {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, yaml);
  console.log(`wrote ${rel}`);
}
