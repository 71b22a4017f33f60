import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDashboards } from './index.js';
import { renderDashboardFiles } from './src/files.js';
import { DEFAULT_POSTGRES_SCHEMA } from '../pipeline/src/store/index.js';
import { POSTGRES_PLUGIN } from './src/panels.js';
import { BUILTIN_VARIABLES, metricNames, panelQueries, panelsOf, referencedVariables, substitute, variableNames } from './src/queries.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dashboards = buildDashboards();

/** Panel types Grafana ships that we use; anything else would render as "unknown panel". */
const PANEL_TYPES = new Set(['timeseries', 'stat', 'state-timeline', 'table', 'geomap']);

// The metric names the pipeline declares (pipeline/src/telemetry/metrics/*.ts): a dashboard
// query on an undeclared aisflow_* name is a typo or a renamed metric.
function declaredAisflowMetrics(): Set<string> {
  const names = new Set<string>();
  const dirs = [join(root, 'pipeline/src/telemetry/metrics'), join(root, 'operator/src')];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []));
  for (const file of dirs.flatMap((d) => walk(d))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/name:\s*'(aisflow_[a-z0-9_]+)'/g)) names.add(m[1]!);
  }
  return names;
}

describe('generated dashboards', () => {
  it('has Overview, Sources, Fusion, Storage, Operator and Map', () => {
    expect(Object.keys(dashboards).sort()).toEqual(
      ['aisflow-fusion.json', 'aisflow-map.json', 'aisflow-operator.json', 'aisflow-overview.json', 'aisflow-sources.json', 'aisflow-storage.json'],
    );
  });

  it.each(Object.entries(renderDashboardFiles()))('%s is up to date (npm run gen:dashboards)', (path, content) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(content);
  });

  it('no stray JSON sits beside the generated files', () => {
    for (const dir of ['grafana/dashboards', 'charts/aisflow-operator/dashboards']) {
      expect(readdirSync(join(root, dir)).sort()).toEqual(Object.keys(dashboards).sort());
    }
  });
});

describe.each(Object.entries(dashboards))('%s', (file, d) => {
  const dash = d as {
    uid: string;
    title: string;
    schemaVersion: number;
    description?: string;
    templating: { list: { name: string; type: string; query?: unknown }[] };
    panels: { id: number; type: string; gridPos: { x: number; y: number; w: number; h: number } }[];
  };

  it('has the dashboard-level fields Grafana requires', () => {
    expect(dash.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(`${dash.uid}.json`).toBe(file);
    expect(dash.title).toMatch(/^aisflow \/ /);
    expect(dash.description).toBeTruthy();
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(39);
  });

  it('offers the datasource, namespace and pipeline variables', () => {
    const vars = dash.templating.list;
    const ds = vars.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.find((v) => v.name === 'namespace')?.type).toBe('query');
    expect(vars.find((v) => v.name === 'pipeline')?.type).toBe('query');
  });

  it('panel ids are unique and the layout fits 24 columns without overlap', () => {
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dash.panels) {
      const g = p.gridPos;
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.x + g.w, `panel ${p.id}`).toBeLessThanOrEqual(24);
      expect(g.w).toBeGreaterThan(0);
      expect(g.h).toBeGreaterThan(0);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const key = `${x},${y}`;
          expect(cells.has(key), `panel ${p.id} overlaps at ${key}`).toBe(false);
          cells.add(key);
        }
      }
    }
  });

  it.each(panelsOf(d).map((p) => [(p as { title: string }).title, p] as const))('panel %s has type, datasource, targets, unit, description and thresholds', (_t, panel) => {
    const p = panel as {
      type: string;
      description?: string;
      datasource?: { type: string; uid: string };
      targets?: { refId: string; datasource?: { type: string; uid: string } }[];
      fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps: unknown[] } } };
    };
    expect(PANEL_TYPES.has(p.type), p.type).toBe(true);
    expect(p.description?.length ?? 0).toBeGreaterThan(15);
    expect(p.datasource?.uid).toMatch(/^\$\{(datasource|postgres)\}$/);
    expect(p.targets?.length ?? 0).toBeGreaterThan(0);
    const refIds = p.targets!.map((t) => t.refId);
    expect(new Set(refIds).size).toBe(refIds.length);
    for (const t of p.targets!) expect(t.datasource).toEqual(p.datasource);
    expect(p.fieldConfig?.defaults?.unit).toBeTruthy();
    expect(p.fieldConfig?.defaults?.thresholds?.steps.length ?? 0).toBeGreaterThan(0);
  });

  it('every variable a query uses is defined or built in', () => {
    const defined = new Set<string>([...variableNames(d), ...BUILTIN_VARIABLES]);
    for (const q of panelQueries({ [file]: d })) {
      for (const v of referencedVariables(q.query)) expect(defined.has(v), `${q.panel}: $${v}`).toBe(true);
    }
  });
});

describe('queries', () => {
  const queries = panelQueries(dashboards);
  const declared = declaredAisflowMetrics();

  it('every Prometheus query is scoped to the selected pipeline unless it reads the cluster-wide operator', () => {
    for (const q of queries.filter((x) => x.datasource === 'prometheus')) {
      if (q.dashboard === 'aisflow-operator.json') continue;
      expect(q.query, `${q.dashboard} ${q.panel}`).toContain('pipeline="$pipeline"');
    }
  });

  it('every aisflow metric a panel reads is declared by the pipeline', () => {
    // operator metrics are checked once the operator declares them (it serves them from operator/src)
    const used = new Set(queries.filter((q) => q.datasource === 'prometheus').flatMap((q) => metricNames(q.query)));
    const pipelineMetrics = [...used].filter((n) => /^aisflow_(ingest|fusion|api)_/.test(n)).map((n) => n.replace(/_(bucket|count|sum)$/, ''));
    expect(pipelineMetrics.length).toBeGreaterThan(20);
    for (const name of pipelineMetrics) expect(declared.has(name), name).toBe(true);
  });

  it('substitutes variables as Grafana does', () => {
    expect(substitute('rate(x{namespace="$namespace", pipeline="${pipeline}"}[$__rate_interval])', { namespace: 'ais', pipeline: 'p' }, { rateInterval: '1m', range: '1h' })).toBe(
      'rate(x{namespace="ais", pipeline="p"}[1m])',
    );
    expect(metricNames('sum(rate(a_total{x="b{"}[1m])) / max(b_gauge) or vector(0)')).toEqual(['a_total', 'b_gauge']);
    expect(metricNames('sum by (pod) (rate(c_total[5m])) > on (pod) group_left max without (le) (d)')).toEqual(['c_total', 'd']);
  });

  it('the map reads live vessels from Postgres', () => {
    const map = queries.filter((q) => q.dashboard === 'aisflow-map.json');
    expect(map).toHaveLength(1);
    expect(map[0]!.datasource).toBe(POSTGRES_PLUGIN);
    expect(map[0]!.query).toContain(`FROM ${DEFAULT_POSTGRES_SCHEMA}.vessels`);
    expect(map[0]!.query).toMatch(/deleted_at IS NULL/);
    const panel = panelsOf(dashboards['aisflow-map.json']!)[0] as { type: string; options: { layers: { location: { latitude: string; longitude: string } }[] } };
    expect(panel.type).toBe('geomap');
    expect(panel.options.layers[0]!.location).toMatchObject({ latitude: 'lat', longitude: 'lon' });
  });
});
