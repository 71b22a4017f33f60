import type { BuildContext, DesiredObject, Pipeline } from './context.js';
import { PIPELINE_LABEL, childName, labels, metadata } from './labels.js';

function monitoringMeta(p: Pipeline, name: string, extra: Record<string, string> = {}) {
  const m = metadata(p.cr, 'monitoring', name);
  return { ...m, labels: { ...(p.spec.monitoring.labels ?? {}), ...extra, ...labels(p.cr, 'monitoring') } };
}

/**
 * ServiceMonitor (ingest, fusion and api), the PrometheusRule built from
 * alerts/, and one ConfigMap per Grafana dashboard (label grafana_dashboard=1, picked up by the
 * Grafana sidecar). Rules are scoped to this pipeline by a `namespace` matcher added by Prometheus
 * Operator's namespace enforcement where configured; the rule text itself stays generic.
 */
export function desiredMonitoring(p: Pipeline, ctx: BuildContext): DesiredObject[] {
  const m = p.spec.monitoring;
  const out: DesiredObject[] = [];
  if (m.serviceMonitor) {
    out.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: monitoringMeta(p, childName(p.cr, 'pipeline')),
      spec: {
        selector: { matchLabels: { [PIPELINE_LABEL]: p.cr.metadata.name } },
        namespaceSelector: { matchNames: [p.cr.metadata.namespace] },
        // ingest, fusion and api Services name their metrics port `http`. The dashboards and
        // alerts select on a `pipeline` label; Prometheus Operator adds `namespace` itself.
        endpoints: [
          {
            port: 'http',
            path: '/metrics',
            interval: '30s',
            relabelings: [
              { sourceLabels: [`__meta_kubernetes_service_label_${toPrometheusLabel(PIPELINE_LABEL)}`], targetLabel: 'pipeline' },
            ],
          },
        ],
      },
    });
  }
  if (m.prometheusRule && ctx.ruleGroups.length > 0) {
    out.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: monitoringMeta(p, childName(p.cr, 'rules')),
      spec: { groups: ctx.ruleGroups },
    });
  }
  if (m.dashboards) {
    for (const [file, dashboard] of Object.entries(ctx.dashboards).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const slug = file.replace(/\.json$/, '').toLowerCase().replace(/[^a-z0-9-]/g, '-');
      out.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: monitoringMeta(p, childName(p.cr, `dashboard-${slug}`), { grafana_dashboard: '1' }),
        data: { [file.endsWith('.json') ? file : `${file}.json`]: `${JSON.stringify(dashboard, null, 2)}\n` },
      });
    }
  }
  return out;
}

/** Kubernetes label name as Prometheus service discovery exposes it (`aisflow.io/pipeline` → `aisflow_io_pipeline`). */
function toPrometheusLabel(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}
