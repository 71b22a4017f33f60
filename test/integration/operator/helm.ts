import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const HELM = resolve('.tools/bin/helm');
export const CHART = resolve('charts/aisflow-operator');

/** helm with its cache/config inside the repo (no writes to $HOME, works offline). */
export function helm(args: string[]): { status: number; stdout: string; stderr: string } {
  const home = resolve('.cache/helm');
  mkdirSync(home, { recursive: true });
  const r = spawnSync(HELM, args, {
    encoding: 'utf8',
    env: { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function ensureHelm(): void {
  if (!existsSync(HELM)) execFileSync('bash', ['scripts/ci/install-helm.sh', resolve('.tools/bin')], { stdio: 'inherit' });
}

/** Renders the chart (CRDs included) into plain objects. */
export function renderChart(set: string[] = []): Array<Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string } }> {
  const r = helm(['template', 'aisflow', CHART, '--namespace', 'aisflow-system', '--include-crds', '--kube-version', '1.30.0', '--api-versions', 'monitoring.coreos.com/v1', ...set.flatMap((s) => ['--set', s])]);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as never)
    .filter(Boolean);
}
