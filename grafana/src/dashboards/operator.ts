import { buildDashboard } from '../dashboard.js';
import { ON_OFF, stateTimeline, statPanel, steps, stepsLowBad, tablePanel, timeSeries, VAR } from '../panels.js';

const R = '$__rate_interval';
// The condition metric's own labels name the AisPipeline; the operator runs once per cluster, so
// its other metrics are not filtered by pipeline. (Scrape it with honor_labels, or Prometheus
// renames the metric's `namespace` to `exported_namespace`.)
const CR = `namespace="$${VAR.namespace}", pipeline="$${VAR.pipeline}"`;

/** The control plane: is the operator reconciling, and what state is each AisPipeline in. */
export function operatorDashboard() {
  return buildDashboard({
    uid: 'aisflow-operator',
    title: 'aisflow / Operator',
    description: 'Reconciles, errors, work-queue depth, leadership and the status conditions of each AisPipeline',
    variables: 'operator',
    rows: [
      {
        title: 'Reconcile loop',
        panels: [
          timeSeries({
            title: 'Reconciles by result',
            description: 'Reconciles per second: done, requeue (waiting for something to become ready), terminal (invalid spec, not retried), error (transient, backing off).',
            unit: 'ops',
            stack: true,
            queries: [{ expr: `sum by (result) (rate(aisflow_operator_reconciles_total[${R}]))`, legend: '{{result}}' }],
          }),
          timeSeries({
            title: 'Reconcile duration',
            description: 'Time of one reconcile pass (read, desired state, apply, prune, status).',
            unit: 's',
            queries: [0.5, 0.99].map((q) => ({
              expr: `histogram_quantile(${q}, sum by (le) (rate(aisflow_operator_reconcile_duration_seconds_bucket[${R}])))`,
              legend: `p${q * 100}`,
            })),
            thresholds: steps(5, 30),
          }),
          timeSeries({
            title: 'Reconcile errors',
            description: 'Failed reconciles per second (API errors, conflicts). Sustained errors mean the desired state is not being applied (alert AisflowOperatorReconcileErrors).',
            unit: 'ops',
            queries: [{ expr: `sum(rate(aisflow_operator_reconcile_errors_total[${R}]))`, legend: 'errors' }],
            thresholds: steps(0.01, 0.1),
          }),
          timeSeries({
            title: 'Work-queue depth',
            description: 'AisPipelines waiting to be reconciled. It should drain to zero between changes.',
            unit: 'short',
            queries: [{ expr: `max(aisflow_operator_queue_depth)`, legend: 'queued' }],
            thresholds: steps(5, 20),
          }),
          statPanel({
            title: 'Leaders',
            description: 'Operator replicas holding the leader Lease. Exactly one is healthy; zero means nothing reconciles.',
            unit: 'short',
            queries: [{ expr: `sum(aisflow_operator_is_leader)`, instant: true }],
            thresholds: [[null, 'red'], [1, 'green'], [2, 'red']],
          }),
        ],
      },
      {
        title: 'AisPipeline $pipeline',
        panels: [
          stateTimeline({
            title: 'Conditions',
            description: 'Ready, Progressing and Degraded of the selected AisPipeline over time (True = 1). Not Ready for 15 minutes raises AisflowPipelineNotReady.',
            unit: 'none',
            width: 16,
            queries: [{ expr: `max by (type) (aisflow_operator_pipeline_condition{${CR}, status="True"})`, legend: '{{type}}' }],
            mappings: ON_OFF(['False', 'text'], ['True', 'blue']),
          }),
          statPanel({
            title: 'Ready',
            description: 'Whether the selected AisPipeline is Ready now.',
            unit: 'none',
            width: 8,
            height: 8,
            queries: [{ expr: `max(aisflow_operator_pipeline_condition{${CR}, type="Ready", status="True"})`, instant: true }],
            thresholds: stepsLowBad(1, 1),
            mappings: ON_OFF(['not ready', 'red'], ['ready', 'green']),
          }),
          tablePanel({
            title: 'All AisPipelines',
            description: 'Every AisPipeline the operator manages with its current conditions (1 = the condition has that status).',
            unit: 'none',
            width: 24,
            queries: [{ expr: `max by (namespace, pipeline, type, status) (aisflow_operator_pipeline_condition) == 1`, instant: true }],
          }),
        ],
      },
    ],
  });
}
