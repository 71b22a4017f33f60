import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AisPipeline } from '../../operator/src/api/v1alpha1/aispipeline.schema.js';
import { desiredObjects } from '../../operator/src/desired/index.js';
import { TEST_CONTEXT } from '../../operator/src/desired/test-context.js';

/** One of the shipped examples (`crds/examples/<name>.yaml`), as kubectl would apply it. */
export function exampleCr(name: string): AisPipeline {
  return parse(readFileSync(`crds/examples/${name}.yaml`, 'utf8')) as AisPipeline;
}

/** A stop hook as the operator renders it: kubelet runs it to its end before sending SIGTERM. */
export interface PreStopContainer {
  lifecycle: { preStop: { exec: { command: string[] } } };
}

/** The pod spec of a managed server's StatefulSet (`<cr>-<component>`), as the operator renders it for `cr`. */
export function managedPodSpec(cr: AisPipeline, component: 'nats' | 'postgres' | 'redis'): { terminationGracePeriodSeconds: number; containers: PreStopContainer[] } {
  const name = `${cr.metadata.name}-${component}`;
  const sts = desiredObjects(cr, TEST_CONTEXT).find((o) => o.kind === 'StatefulSet' && o.metadata.name === name);
  if (!sts) throw new Error(`no StatefulSet ${name} for this pipeline`);
  return (sts.spec as { template: { spec: { terminationGracePeriodSeconds: number; containers: PreStopContainer[] } } }).template.spec;
}
