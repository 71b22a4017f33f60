/**
 * Assembles a dashboard from rows of sized panels: shared template variables, stable uids, a
 * deterministic layout and sequential panel ids (so a fresh build is byte-identical to the
 * committed JSON).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { POSTGRES_PLUGIN, PROMETHEUS, VAR, type Sized } from './panels.js';

export interface Row {
  title: string;
  panels: readonly Sized<{ build(): dashboard.Panel; gridPos(g: dashboard.GridPos): unknown }>[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /**
   * Which selector variables the dashboard offers. `pipeline`: namespace and pipeline from the
   * pipeline's own scrape targets. `operator`: from the operator's per-AisPipeline condition
   * metric (the operator runs once per cluster, so its targets carry no pipeline label).
   * `map`: a PostgreSQL datasource picker as well.
   */
  variables: 'pipeline' | 'operator' | 'map';
  extraVariables?: readonly dashboard.VariableModel[];
  rows: readonly Row[];
}

const TAGS = ['aisflow'];

function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(VAR.datasource).label('Prometheus').type('prometheus').description('Prometheus that scrapes the aisflow pipeline');
}

function queryVariable(name: string, label: string, query: string, description: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/**
 * The namespace/pipeline pickers. The pipeline processes and their exporters are scraped with
 * `namespace` and `pipeline` target labels (the ServiceMonitor relabels the AisPipeline name
 * from the pod label `app.kubernetes.io/instance`); `up` exists for every target, so the
 * pickers work before any aisflow metric has a sample.
 */
export function selectorVariables(kind: DashboardSpec['variables']): dashboard.VariableModel[] {
  const vars: dashboard.VariableModel[] = [datasourceVariable().build()];
  if (kind === 'map') {
    vars.push(
      new dashboard.DatasourceVariableBuilder(VAR.postgres)
        .label('PostgreSQL')
        .type(POSTGRES_PLUGIN)
        .description('PostgreSQL (or its PgBouncer) that holds the pipeline\'s vessels table')
        .build(),
    );
  }
  if (kind === 'operator') {
    vars.push(
      queryVariable(VAR.namespace, 'Namespace', 'label_values(aisflow_operator_pipeline_condition, namespace)', 'Namespace of the AisPipeline').build(),
      queryVariable(VAR.pipeline, 'Pipeline', `label_values(aisflow_operator_pipeline_condition{namespace="$${VAR.namespace}"}, pipeline)`, 'AisPipeline name').build(),
    );
  } else {
    vars.push(
      queryVariable(VAR.namespace, 'Namespace', 'label_values(up{pipeline!=""}, namespace)', 'Namespace of the AisPipeline').build(),
      queryVariable(VAR.pipeline, 'Pipeline', `label_values(up{namespace="$${VAR.namespace}", pipeline!=""}, pipeline)`, 'AisPipeline name').build(),
    );
  }
  return vars;
}

export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(TAGS)
    .timezone('utc')
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .editable()
    .links([
      new dashboard.DashboardLinkBuilder('aisflow')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(TAGS)
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    ]);
  // Grafana's own annotations (alert state changes, manual notes), as every new dashboard has.
  b.annotation(
    new dashboard.AnnotationQueryBuilder()
      .name('Annotations & Alerts')
      .datasource({ type: 'grafana', uid: '-- Grafana --' })
      .enable(true)
      .hide(true)
      .iconColor('rgba(0, 211, 255, 1)')
      .type('dashboard')
      .builtIn(1),
  );
  b.variables([...selectorVariables(spec.variables), ...(spec.extraVariables ?? [])].map((v) => ({ build: () => v })));

  // Panels are laid out left to right and wrap at 24 columns; a row header starts each group.
  let y = 0;
  let id = 1;
  const panels: (dashboard.Panel | dashboard.RowPanel)[] = [];
  for (const row of spec.rows) {
    // An expanded row lists its panels after it at the top level (Grafana's own JSON shape).
    panels.push({ type: 'row', id: id++, title: row.title, collapsed: false, panels: [], gridPos: { x: 0, y, w: 24, h: 1 } });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const sized of row.panels) {
      if (x + sized.width > 24) {
        x = 0;
        y += lineHeight;
        lineHeight = 0;
      }
      const panel = sized.builder.build();
      panel.id = id++;
      panel.gridPos = { x, y, w: sized.width, h: sized.height };
      panels.push(panel);
      x += sized.width;
      lineHeight = Math.max(lineHeight, sized.height);
    }
    y += lineHeight;
  }
  const built = b.build();
  built.panels = panels;
  return built;
}
