import { buildDashboards } from '../index.js';

/** Where the generated dashboards live: the JSON for import, and the Helm chart's copies. */
export const DASHBOARD_DIRS = ['grafana/dashboards', 'charts/aisflow-operator/dashboards'] as const;

/** Stable text of a dashboard file: two-space JSON with a final newline. */
export const dashboardText = (dashboard: object): string => `${JSON.stringify(dashboard, null, 2)}\n`;

/** Every generated dashboard file, path relative to the repository root → content. */
export function renderDashboardFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, dashboard] of Object.entries(buildDashboards())) {
    for (const dir of DASHBOARD_DIRS) files[`${dir}/${name}`] = dashboardText(dashboard);
  }
  return files;
}
