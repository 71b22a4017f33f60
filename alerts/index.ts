/**
 * The aisflow alert rules. `buildRuleGroups()` is the single source for alerts/rules.yaml
 * (promtool), alerts/prometheus-rules.yaml (PrometheusRule) and alerts/grafana/*.yaml
 * (Grafana-managed alerting), and what the operator puts into the PrometheusRule it creates
 * when `monitoring.prometheusRule` is on.
 */
import { ALERTS, runbookUrl, type AlertSpec } from './src/rules.js';

export { ALERTS, runbookUrl, type AlertSpec } from './src/rules.js';

export interface PrometheusAlertRule extends Record<string, unknown> {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: AlertSpec['severity'] };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: PrometheusAlertRule[];
}

export function toPrometheusRule(a: AlertSpec): PrometheusAlertRule {
  return {
    alert: a.alert,
    expr: a.expr,
    for: a.for,
    labels: { severity: a.severity },
    annotations: { summary: a.summary, description: a.description, runbook_url: runbookUrl(a.alert) },
  };
}

/** Prometheus rule groups, one per component, alerts in table order. */
export function buildRuleGroups(): RuleGroup[] {
  const groups = new Map<string, PrometheusAlertRule[]>();
  for (const a of ALERTS) {
    const list = groups.get(a.group) ?? [];
    list.push(toPrometheusRule(a));
    groups.set(a.group, list);
  }
  return [...groups].map(([name, rules]) => ({ name, rules }));
}
