/**
 * Panel constructors over the Grafana foundation SDK. Every aisflow panel is made here so the
 * rules the issue sets (a datasource, a unit, a description, thresholds where a value can be
 * bad) are enforced by the types of one small spec rather than remembered per panel.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as geomap from '@grafana/grafana-foundation-sdk/geomap';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Template variable names shared by every dashboard (and substituted by the Prometheus test). */
export const VAR = {
  datasource: 'datasource',
  postgres: 'postgres',
  namespace: 'namespace',
  pipeline: 'pipeline',
  source: 'source',
} as const;

/** The Prometheus datasource is chosen by the `datasource` variable, never hard-coded by uid. */
export const PROMETHEUS: common.DataSourceRef = { type: 'prometheus', uid: `\${${VAR.datasource}}` };
/** Grafana's PostgreSQL plugin id since Grafana 10.3 (earlier releases called it `postgres`). */
export const POSTGRES_PLUGIN = 'grafana-postgresql-datasource';
export const POSTGRES: common.DataSourceRef = { type: POSTGRES_PLUGIN, uid: `\${${VAR.postgres}}` };

/** Label matchers that scope a series to the selected AisPipeline (target labels set by the ServiceMonitor). */
export const SEL = `namespace="$${VAR.namespace}", pipeline="$${VAR.pipeline}"`;

export interface PromQuery {
  expr: string;
  /** legend template, e.g. `{{source}}` */
  legend?: string;
  /** stat and table panels read only the latest value */
  instant?: boolean;
}

/** A threshold step: from `value` upward the colour applies (`null` = the base step). */
export type Step = readonly [value: number | null, color: string];

/** The usual green base with a warning and a critical step. */
export const steps = (warn: number, crit: number): Step[] => [
  [null, 'green'],
  [warn, 'orange'],
  [crit, 'red'],
];
/** For values where low is bad (hit rates, connected flags). */
export const stepsLowBad = (crit: number, warn: number): Step[] => [
  [null, 'red'],
  [crit, 'orange'],
  [warn, 'green'],
];

export interface PanelSpec {
  title: string;
  /** what the panel shows and what a bad value means; required on every panel */
  description: string;
  /** a Grafana unit id (`s`, `bytes`, `percentunit`, `short`, `suffix:msg/s` ...) */
  unit: string;
  queries: readonly PromQuery[];
  thresholds?: readonly Step[];
  min?: number;
  max?: number;
  decimals?: number;
  /** grid width in columns of 24; the row height comes from the layout */
  width?: number;
  height?: number;
}

export interface Sized<T> {
  builder: T;
  width: number;
  height: number;
}

interface CommonPanelBuilder {
  title(t: string): unknown;
  description(d: string): unknown;
  unit(u: string): unknown;
  datasource(d: common.DataSourceRef): unknown;
  withTarget(t: cog.Builder<cog.Dataquery>): unknown;
  thresholds(t: cog.Builder<dashboard.ThresholdsConfig>): unknown;
  min(v: number): unknown;
  max(v: number): unknown;
  decimals(v: number): unknown;
  mappings(m: dashboard.ValueMapping[]): unknown;
  gridPos(g: dashboard.GridPos): unknown;
  build(): dashboard.Panel;
}

function thresholdsOf(list: readonly Step[]): cog.Builder<dashboard.ThresholdsConfig> {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(list.map(([value, color]) => ({ value, color })));
}

function promTarget(q: PromQuery, index: number): cog.Builder<cog.Dataquery> {
  const b = new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS)
    .refId(String.fromCharCode(65 + index))
    .expr(q.expr)
    .legendFormat(q.legend ?? '__auto');
  return q.instant ? b.instant() : b.range();
}

function applyCommon<T extends CommonPanelBuilder>(b: T, spec: PanelSpec): Sized<T> {
  b.title(spec.title);
  b.description(spec.description);
  b.unit(spec.unit);
  b.datasource(PROMETHEUS);
  spec.queries.forEach((q, i) => b.withTarget(promTarget(q, i)));
  b.thresholds(thresholdsOf(spec.thresholds ?? [[null, 'green']]));
  if (spec.min !== undefined) b.min(spec.min);
  if (spec.max !== undefined) b.max(spec.max);
  if (spec.decimals !== undefined) b.decimals(spec.decimals);
  return { builder: b, width: spec.width ?? 12, height: spec.height ?? 8 };
}

/** A time series; thresholds (when given) are drawn as dashed lines so the bad zone is visible. */
export function timeSeries(spec: PanelSpec & { stack?: boolean }): Sized<CommonPanelBuilder> {
  const b = new timeseries.PanelBuilder()
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .fillOpacity(10)
    .lineWidth(1)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(true);
  if (spec.thresholds) b.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  if (spec.stack) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return applyCommon(b, spec);
}

/** One big number, coloured by its thresholds, with a sparkline. */
export function statPanel(spec: PanelSpec & { mappings?: dashboard.ValueMapping[] }): Sized<CommonPanelBuilder> {
  const b = new stat.PanelBuilder()
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.Area)
    .textMode(common.BigValueTextMode.Auto);
  const sized = applyCommon(b, { width: 4, height: 5, ...spec });
  if (spec.mappings) b.mappings(spec.mappings);
  return sized;
}

/** Discrete states over time (breakers, connected flags, conditions), coloured by value mappings. */
export function stateTimeline(spec: PanelSpec & { mappings: dashboard.ValueMapping[] }): Sized<CommonPanelBuilder> {
  const b = new statetimeline.PanelBuilder()
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .rowHeight(0.8)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom));
  const sized = applyCommon(b, spec);
  b.mappings(spec.mappings);
  return sized;
}

/** The latest value of each series as rows (one per label set). */
export function tablePanel(spec: PanelSpec & { mappings?: dashboard.ValueMapping[] }): Sized<CommonPanelBuilder> {
  const b = new table.PanelBuilder().showHeader(true).withTransformation({ id: 'labelsToFields', options: { mode: 'columns' } });
  const sized = applyCommon(b, spec);
  if (spec.mappings) b.mappings(spec.mappings);
  return sized;
}

/** Value → text/colour mappings, e.g. breaker states 0/1/2. */
export function valueMappings(map: Record<number, readonly [text: string, color: string]>): dashboard.ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  Object.entries(map).forEach(([value, [text, color]], index) => {
    options[value] = { text, color, index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

export const BREAKER_STATES = valueMappings({ 0: ['closed', 'green'], 1: ['half-open', 'orange'], 2: ['open', 'red'] });
export const ON_OFF = (off: readonly [string, string], on: readonly [string, string]): dashboard.ValueMapping[] =>
  valueMappings({ 0: off, 1: on });

/** A raw SQL query for Grafana's PostgreSQL datasource (the SDK has no builder for it). */
export interface SqlQuery extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  rawSql: string;
  format: 'table' | 'time_series';
  rawQuery: true;
  editorMode: 'code';
}

export function sqlTarget(refId: string, rawSql: string): cog.Builder<cog.Dataquery> {
  const query: SqlQuery = {
    _implementsDataqueryVariant() {},
    refId,
    datasource: POSTGRES,
    rawSql,
    format: 'table',
    rawQuery: true,
    editorMode: 'code',
  };
  return { build: () => query };
}

/** A Geomap of points read from SQL columns `lat`/`lon`, coloured by a numeric column. */
export function geomapPanel(spec: {
  title: string;
  description: string;
  unit: string;
  sql: string;
  colorField: string;
  thresholds: readonly Step[];
  width?: number;
  height?: number;
}): Sized<CommonPanelBuilder> {
  const markers = new common.MapLayerOptionsBuilder()
    .type('markers')
    .name('Vessels')
    .tooltip(true)
    .location(new common.FrameGeometrySourceBuilder().mode(common.FrameGeometrySourceMode.Coords).latitude('lat').longitude('lon'))
    .config({
      showLegend: true,
      style: {
        color: { field: spec.colorField, fixed: 'green' },
        size: { fixed: 4 },
        symbol: { mode: 'fixed', fixed: 'img/icons/marker/triangle.svg' },
        rotation: { field: 'heading', fixed: 0, mode: 'mod' },
        opacity: 0.8,
      },
    });
  const b = new geomap.PanelBuilder()
    .view(new geomap.MapViewConfigBuilder().id('fit').allLayers(true).zoom(2))
    .basemap(new common.MapLayerOptionsBuilder().type('default').name('Basemap'))
    .layers([markers])
    .controls(new geomap.ControlsOptionsBuilder().showZoom(true).mouseWheelZoom(true).showScale(true))
    .tooltip(new geomap.TooltipOptionsBuilder().mode(geomap.TooltipMode.Details));
  b.title(spec.title).description(spec.description).unit(spec.unit).datasource(POSTGRES).withTarget(sqlTarget('A', spec.sql));
  b.thresholds(thresholdsOf(spec.thresholds));
  return { builder: b as unknown as CommonPanelBuilder, width: spec.width ?? 24, height: spec.height ?? 18 };
}
