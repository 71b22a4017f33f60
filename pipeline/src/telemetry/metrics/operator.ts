import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every metric the operator owns (docs/metrics.md, "operator"). Label sets are closed: `result`
 * is one of the reconcile outcomes, `type`/`status` the condition vocabulary; `namespace` and
 * `pipeline` are bounded by the AisPipelines that exist.
 */
export interface OperatorMetrics {
  reconciles: Counter<'result'>;
  reconcileDuration: Histogram;
  reconcileErrors: Counter;
  queueDepth: Gauge;
  isLeader: Gauge;
  pipelineCondition: Gauge<'namespace' | 'pipeline' | 'type' | 'status'>;
  watchRestarts: Counter<'resource'>;
}

export const RECONCILE_RESULTS = ['done', 'requeue', 'terminal', 'error'] as const;

export function createOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  const m: OperatorMetrics = {
    reconciles: new Counter({ name: 'aisflow_operator_reconciles_total', help: 'Reconcile passes, by outcome (done|requeue|terminal|error)', labelNames: ['result'] as const, registers }),
    reconcileDuration: new Histogram({
      name: 'aisflow_operator_reconcile_duration_seconds',
      help: 'Time of one reconcile pass (reads, applies, external checks)',
      // A pass is a dozen API calls plus optional NATS/Redis checks: 10 ms to tens of seconds.
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    reconcileErrors: new Counter({ name: 'aisflow_operator_reconcile_errors_total', help: 'Reconcile passes that failed with a transient error (retried with backoff)', registers }),
    queueDepth: new Gauge({ name: 'aisflow_operator_queue_depth', help: 'AisPipeline keys waiting in the work queue (due now)', registers }),
    isLeader: new Gauge({ name: 'aisflow_operator_is_leader', help: '1 while this replica holds the leader Lease', registers }),
    pipelineCondition: new Gauge({
      name: 'aisflow_operator_pipeline_condition',
      help: 'Status conditions of each AisPipeline (1 for the current status value)',
      labelNames: ['namespace', 'pipeline', 'type', 'status'] as const,
      registers,
    }),
    watchRestarts: new Counter({ name: 'aisflow_operator_watch_restarts_total', help: 'Informer restarts by the supervisor (errors, expired watches, idle timeouts)', labelNames: ['resource'] as const, registers }),
  };
  for (const r of RECONCILE_RESULTS) m.reconciles.inc({ result: r }, 0);
  return m;
}
