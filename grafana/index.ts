/**
 * The aisflow Grafana dashboards, built from code. `buildDashboards()` is what the committed
 * JSON in grafana/dashboards/ (and the chart's copies) is generated from, and what the operator
 * renders into `grafana_dashboard` ConfigMaps; a test keeps the three identical.
 */
import { fusionDashboard } from './src/dashboards/fusion.js';
import { mapDashboard } from './src/dashboards/map.js';
import { operatorDashboard } from './src/dashboards/operator.js';
import { overviewDashboard } from './src/dashboards/overview.js';
import { sourcesDashboard } from './src/dashboards/sources.js';
import { storageDashboard } from './src/dashboards/storage.js';

/** File name (`aisflow-<name>.json`) → dashboard JSON model, in a stable order. */
export function buildDashboards(): Record<string, object> {
  const dashboards = [overviewDashboard(), sourcesDashboard(), fusionDashboard(), storageDashboard(), operatorDashboard(), mapDashboard()];
  // JSON round trip: drops undefined fields and builder internals, so what we return is exactly
  // what Grafana imports.
  return Object.fromEntries(dashboards.map((d) => [`${d.uid}.json`, JSON.parse(JSON.stringify(d)) as object]));
}
