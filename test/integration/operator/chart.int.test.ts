import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateObjects } from '../../harness/k8s-validate.js';
import { CHART, helm, renderChart } from './helm.js';

describe('charts/aisflow-operator (real helm binary)', () => {
  it('passes helm lint --strict', () => {
    const r = helm(['lint', '--strict', CHART]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it('values.schema.json rejects bad values (lint and template fail, naming the field)', () => {
    const r = helm(['template', 'x', CHART, '--set', 'replicaCount=0', '--set', 'image.pullPolicy=Sometimes']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/replicaCount/);
    expect(r.stderr).toMatch(/pullPolicy/);
    expect(helm(['lint', '--strict', CHART, '--set', 'typo=1']).status).not.toBe(0);
  });

  it.each([
    ['defaults', []],
    ['serviceMonitor, dashboards, one namespace', ['metrics.serviceMonitor.enabled=true', 'dashboards.enabled=true', 'watchNamespace=ais']],
  ])('renders objects that validate against the Kubernetes schemas (%s)', async (_name, set) => {
    const objects = renderChart(set as string[]);
    const report = await validateObjects(objects);
    expect(report.invalid).toEqual([]);
    expect(report.unchecked).toEqual([]);
    const kinds = objects.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['CustomResourceDefinition', 'Deployment', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'PodDisruptionBudget']));
    if ((set as string[]).length > 0) expect(kinds).toContain('ServiceMonitor');
  });

  it('runs 2 leader-elected, restricted replicas with probes', () => {
    const dep = renderChart().find((o) => o.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { securityContext: object; containers: Array<{ env: Array<{ name: string }>; securityContext: object; readinessProbe: object; livenessProbe: object }> } } };
    };
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0]!;
    expect(c.env.map((e) => e.name)).toEqual(expect.arrayContaining(['AISFLOW_OPERATOR_NAMESPACE', 'AISFLOW_OPERATOR_IDENTITY', 'AISFLOW_OPERATOR_LEASE_NAME']));
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(dep.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.readinessProbe).toBeDefined();
    expect(c.livenessProbe).toBeDefined();
  });

  it('ships the generated CRD unchanged and NOTES that say what to apply next', () => {
    expect(readFileSync(`${CHART}/crds/aispipeline.yaml`, 'utf8')).toBe(readFileSync('crds/aispipeline.yaml', 'utf8'));
    // `helm install --dry-run` needs a cluster for its version check; render NOTES.txt as a
    // template of a throw-away copy of the chart instead (same engine, same values).
    const copy = mkdtempSync(join(tmpdir(), 'aisflow-chart-'));
    cpSync(CHART, copy, { recursive: true });
    cpSync(join(copy, 'templates/NOTES.txt'), join(copy, 'notes.txt'));
    writeFileSync(join(copy, 'templates/notes-as-template.yaml'), 'notes: |\n{{ tpl (.Files.Get "notes.txt") . | indent 2 }}\n');
    const r = helm(['template', 'aisflow', copy, '--namespace', 'aisflow-system', '--show-only', 'templates/notes-as-template.yaml']);
    rmSync(copy, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('kubectl apply -n ais -f');
    expect(r.stdout).toContain('kubectl get aispipelines -n ais -w');
  });
});
