/**
 * Walks built dashboards for their queries, and substitutes template variables the way Grafana
 * would before sending them, so tests can run every panel query against a real Prometheus.
 */
export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  /** datasource plugin type of the target (`prometheus`, `grafana-postgresql-datasource`) */
  datasource: string;
  query: string;
  instant: boolean;
}

interface TargetLike {
  refId?: string;
  expr?: string;
  rawSql?: string;
  instant?: boolean;
  datasource?: { type?: string };
}
interface PanelLike {
  type: string;
  title?: string;
  targets?: TargetLike[];
  datasource?: { type?: string };
}

export function panelsOf(dashboard: object): PanelLike[] {
  return ((dashboard as { panels?: PanelLike[] }).panels ?? []).filter((p) => p.type !== 'row');
}

export function panelQueries(dashboards: Record<string, object>): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [file, d] of Object.entries(dashboards)) {
    for (const p of panelsOf(d)) {
      for (const t of p.targets ?? []) {
        const query = t.expr ?? t.rawSql;
        if (query === undefined) continue;
        out.push({
          dashboard: file,
          panel: p.title ?? '',
          refId: t.refId ?? '',
          datasource: t.datasource?.type ?? p.datasource?.type ?? '',
          query,
          instant: t.instant === true,
        });
      }
    }
  }
  return out;
}

/** Template variable names a dashboard defines. */
export function variableNames(dashboard: object): string[] {
  const list = (dashboard as { templating?: { list?: { name: string }[] } }).templating?.list ?? [];
  return list.map((v) => v.name);
}

/** Grafana's built-in variables our queries use. */
export const BUILTIN_VARIABLES = ['__rate_interval', '__range', '__interval', '__timeFilter'] as const;

/** `$name` and `${name}` references in a query (not `$__timeFilter(...)` arguments). */
export function referencedVariables(query: string): string[] {
  return [...query.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]!);
}

/**
 * Substitutes variables in a PromQL query as Grafana does for a single selected value:
 * `$__rate_interval` and `$__range` become durations, user variables their value.
 */
export function substitute(query: string, values: Record<string, string>, durations: { rateInterval: string; range: string }): string {
  return query
    .replaceAll('$__rate_interval', durations.rateInterval)
    .replaceAll('$__range', durations.range)
    .replaceAll('$__interval', durations.rateInterval)
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => values[name] ?? whole);
}

/** Every metric name a PromQL query reads (identifiers followed by a selector or range). */
export function metricNames(promql: string): string[] {
  const names = new Set<string>();
  const stripped = promql.replace(/"[^"]*"/g, '""');
  for (const m of stripped.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{|\[)/g)) {
    const name = m[1]!;
    if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(name)) continue;
    names.add(name);
  }
  // bare metric names in function arguments, e.g. max(aisflow_operator_queue_depth)
  // (not a one-label grouping such as `by (pod)`)
  for (const m of stripped.matchAll(/(?<!\b(?:by|without|on|ignoring|group_left|group_right)\s*)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\)/g)) names.add(m[1]!);
  return [...names].filter((n) => !/^(vector|time|scalar)$/.test(n));
}

/** Grafana's SQL macro `$__timeFilter(col)` for a relative range, as the PostgreSQL plugin expands it. */
export function substituteSql(sql: string, range: { interval: string }): string {
  return sql.replace(/\$__timeFilter\(([^)]+)\)/g, (_m, col: string) => `${col} BETWEEN now() - interval '${range.interval}' AND now()`);
}
