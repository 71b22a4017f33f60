/**
 * Every aisflow alert, as data. One table feeds the Prometheus rule groups (plain and as a
 * PrometheusRule), the Grafana-managed alert provisioning, the promtool unit tests' coverage
 * check and the runbook check. Each `for:` is chosen for the alert's failure mode (see `why`).
 *
 * Label conventions: every aisflow target carries `namespace` and `pipeline` (ServiceMonitor
 * target labels), so each expression aggregates `by (namespace, pipeline, ...)` and an alert
 * names the AisPipeline it is about. The operator's metrics carry the AisPipeline in their own
 * `namespace`/`pipeline` labels.
 */
export type Severity = 'critical' | 'warning';

export interface AlertSpec {
  alert: string;
  group: 'aisflow-ingest' | 'aisflow-fusion' | 'aisflow-storage' | 'aisflow-operator';
  expr: string;
  /** Prometheus duration the condition must hold before the alert fires */
  for: string;
  severity: Severity;
  /** one line; may use {{ $labels.x }} and {{ $value }} */
  summary: string;
  /** what is wrong, with the value, and where to look first */
  description: string;
  /** why this `for:` (kept in the rule files as a comment-free field would not survive YAML renderers) */
  why: string;
}

export const RUNBOOK_BASE = 'https://github.com/aisflow/aisflow/blob/main/docs/runbooks';
export const runbookUrl = (alert: string): string => `${RUNBOOK_BASE}/${alert}.md`;

const BY = 'namespace, pipeline';
const WHERE = '{{ $labels.namespace }}/{{ $labels.pipeline }}';

export const ALERTS: readonly AlertSpec[] = [
  {
    alert: 'AisflowIngestSourceStalled',
    group: 'aisflow-ingest',
    expr: `time() - max by (${BY}, source) (aisflow_ingest_last_message_timestamp_seconds) > 300`,
    for: '5m',
    severity: 'warning',
    summary: 'AIS source {{ $labels.source }} of ' + WHERE + ' is silent',
    description:
      'Source {{ $labels.source }} delivered no decodable message for {{ $value | humanizeDuration }}. Check the receiver or feed, the source\'s connected flag and breaker on the Sources dashboard.',
    why: 'Receivers go quiet for a minute at night or on a reconnect; 5 minutes silent plus 5 minutes held is an outage, not a lull.',
  },
  {
    alert: 'AisflowNoMessagesIntoJetStream',
    group: 'aisflow-ingest',
    expr: `sum by (${BY}) (rate(aisflow_ingest_records_published_total[5m])) == 0`,
    for: '10m',
    severity: 'critical',
    summary: 'No AIS records reach JetStream for ' + WHERE,
    description:
      'Ingest published {{ $value }} records/s to JetStream over 5 minutes: the live picture is frozen. Check every source (all silent?), the publish errors and in-flight publishes, and the NATS server.',
    why: 'Whole-pipeline outage: critical, but held 10 minutes so a NATS leader election or an ingest rollout does not page.',
  },
  {
    alert: 'AisflowIngestPublishErrors',
    group: 'aisflow-ingest',
    expr: `sum by (${BY}) (rate(aisflow_ingest_publish_errors_total[5m])) > 0.1`,
    for: '10m',
    severity: 'warning',
    summary: 'Ingest of ' + WHERE + ' fails to publish to JetStream',
    description: 'Publishes to JetStream fail at {{ $value | printf "%.2f" }}/s (each is retried). Check the NATS server, the stream limits and the network between ingest and NATS.',
    why: 'Single failed publishes are retried and harmless; ten minutes of them means NATS is unhealthy.',
  },
  {
    alert: 'AisflowSourceBreakerOpen',
    group: 'aisflow-ingest',
    expr: `max by (${BY}, source) (aisflow_ingest_breaker_state) == 2`,
    for: '5m',
    severity: 'warning',
    summary: 'Circuit breaker of source {{ $labels.source }} in ' + WHERE + ' is open',
    description: 'The breaker of source {{ $labels.source }} has been open for 5 minutes: connecting or reading keeps failing and the source is not being read. Check the address, credentials and the ingest log.',
    why: 'A breaker opens and half-opens within seconds; staying open 5 minutes means the source is really down.',
  },
  {
    alert: 'AisflowConsumerLagGrowing',
    group: 'aisflow-fusion',
    expr: `sum by (${BY}) (aisflow_fusion_consumer_pending_messages) > 1000 and sum by (${BY}) (deriv(aisflow_fusion_consumer_pending_messages[10m])) > 0`,
    for: '15m',
    severity: 'warning',
    summary: 'Fusion of ' + WHERE + ' is falling behind',
    description: '{{ $value | humanize }} messages wait in JetStream and the backlog keeps growing. Check store write latency and breakers, fusion CPU, and whether fusion should scale out.',
    why: 'Bursts after a reconnect build a backlog that drains within minutes; growth for 15 minutes means fusion cannot keep up.',
  },
  {
    alert: 'AisflowEndToEndLatencyHigh',
    group: 'aisflow-fusion',
    expr: `histogram_quantile(0.99, sum by (${BY}, le) (rate(aisflow_fusion_end_to_end_latency_seconds_bucket[5m]))) > 5`,
    for: '10m',
    severity: 'warning',
    summary: 'Live positions of ' + WHERE + ' are late',
    description: '99th percentile from publish to visible in Redis is {{ $value | humanizeDuration }} (threshold 5s). Check the consumer backlog, Redis latency and the fusion batch sizes.',
    why: 'p99 over a 5 minute window already smooths spikes; 10 more minutes separates a slow spell from a degraded pipeline.',
  },
  {
    alert: 'AisflowDlqGrowing',
    group: 'aisflow-fusion',
    expr:
      `sum by (${BY}) (increase(aisflow_fusion_dlq_writes_total[15m])) > 0` +
      ` or (sum by (${BY}) (rate(aisflow_ingest_dlq_writes_total[15m])) / sum by (${BY}) (rate(aisflow_ingest_lines_total[15m]))) > 0.05`,
    for: '15m',
    severity: 'warning',
    summary: 'Dead-letter queue of ' + WHERE + ' is growing',
    description:
      'Fusion dead-lettered records, or more than 5% of ingested lines went to the DLQ (value {{ $value | printf "%.3g" }}). Peek at the DLQ through the admin API, fix the cause, then retry or purge.',
    why: 'Some decode rejects are normal radio noise, hence the 5% ratio; any fusion dead letter is a bug or a store fault, but 15 minutes lets a retry storm settle before waking anyone.',
  },
  {
    alert: 'AisflowSourceDemoted',
    group: 'aisflow-fusion',
    expr: `max by (${BY}, source) (aisflow_fusion_source_demoted) == 1`,
    for: '30m',
    severity: 'warning',
    summary: 'Source {{ $labels.source }} of ' + WHERE + ' is demoted',
    description: 'Fusion has distrusted source {{ $labels.source }} for 30 minutes: its reports keep failing plausibility or arrive late. Check the receiver\'s clock (tag block c: time), its GPS and the trust score on the Sources dashboard.',
    why: 'Demotion is automatic and recovers after a quiet period; only a source that stays demoted for half an hour needs a person.',
  },
  {
    alert: 'AisflowFusionPartitionsUnowned',
    group: 'aisflow-fusion',
    // Every member exports the configured count; the owned ones of all members must reach it
    // (a hand-over briefly over-counts, never under-counts for minutes). No live member at all
    // is caught directly.
    expr: `sum by (${BY}) (aisflow_fusion_partitions_owned) < max by (${BY}) (aisflow_fusion_partitions) or max by (${BY}) (aisflow_fusion_members) == 0`,
    for: '5m',
    severity: 'critical',
    summary: 'Fusion partitions of ' + WHERE + ' have no owner',
    description:
      'Fusion members own {{ $value }} partitions in total, fewer than the stream has (or no member is alive): messages of the unowned partitions are not processed. Check fusion pods, their membership heartbeats in the NATS KV bucket and their logs.',
    why: 'A hand-over moves partitions within seconds; 5 minutes unowned means members are missing or stuck.',
  },
  {
    alert: 'AisflowStoreBreakerOpen',
    group: 'aisflow-storage',
    expr: `max by (${BY}, store) (aisflow_fusion_breaker_state) == 2`,
    for: '2m',
    severity: 'critical',
    summary: 'Fusion\'s {{ $labels.store }} breaker is open in ' + WHERE,
    description: 'Fusion stopped pulling because {{ $labels.store }} writes keep failing. Nothing is lost (messages wait in JetStream) but the live picture is frozen. Check the {{ $labels.store }} server (and PgBouncer for postgres).',
    why: 'An open store breaker stops all processing: page after 2 minutes, enough for a failover to finish.',
  },
  {
    alert: 'AisflowRedisWriteErrors',
    group: 'aisflow-storage',
    expr: `sum by (${BY}) (rate(aisflow_fusion_store_errors_total{store="redis"}[5m])) > 0`,
    for: '5m',
    severity: 'critical',
    summary: 'Redis writes fail in ' + WHERE,
    description: 'Fusion\'s Redis writes fail at {{ $value | printf "%.2f" }}/s. Check Redis memory (maxmemory, eviction), cluster state and connectivity.',
    why: 'Errors lasting 5 minutes outlive a Redis Cluster failover (seconds); shorter blips are absorbed by retries and the breaker.',
  },
  {
    alert: 'AisflowPostgresWriteErrors',
    group: 'aisflow-storage',
    expr: `sum by (${BY}) (rate(aisflow_fusion_store_errors_total{store="postgres"}[5m])) > 0`,
    for: '5m',
    severity: 'critical',
    summary: 'Postgres writes fail in ' + WHERE,
    description: 'Fusion\'s Postgres writes fail at {{ $value | printf "%.2f" }}/s. Check PgBouncer pools (waiting clients), Postgres connections, disk, and missing history partitions.',
    why: 'Same as Redis: longer than a failover or a PgBouncer restart.',
  },
  {
    alert: 'AisflowOperatorReconcileErrors',
    group: 'aisflow-operator',
    expr: 'sum by (pod) (rate(aisflow_operator_reconcile_errors_total[10m])) > 0',
    for: '15m',
    severity: 'warning',
    summary: 'The aisflow operator keeps failing to reconcile',
    description: 'Reconciles fail at {{ $value | printf "%.3f" }}/s on {{ $labels.pod }}. Check the operator log and events (kubectl get events), RBAC, and API server health.',
    why: 'Transient API errors are retried with backoff and clear in minutes; 15 minutes of errors means the desired state is not being applied.',
  },
  {
    alert: 'AisflowPipelineNotReady',
    group: 'aisflow-operator',
    expr: 'max by (namespace, pipeline) (aisflow_operator_pipeline_condition{type="Ready", status!="True"}) == 1',
    for: '15m',
    severity: 'critical',
    summary: 'AisPipeline ' + WHERE + ' is not Ready',
    description: 'The AisPipeline has not been Ready for 15 minutes. kubectl describe aispipeline {{ $labels.pipeline }} -n {{ $labels.namespace }}: the Degraded and Progressing conditions and events say why.',
    why: 'A fresh install or a rolling upgrade is legitimately not Ready for a few minutes (NATS, Redis and Postgres start first); 15 minutes is beyond any normal rollout.',
  },
  {
    alert: 'AisflowPodRestarting',
    group: 'aisflow-operator',
    expr: 'changes(process_start_time_seconds{pipeline!=""}[30m]) > 2',
    for: '1m',
    severity: 'warning',
    summary: 'A process of ' + WHERE + ' keeps restarting',
    description: '{{ $labels.pod }} ({{ $labels.job }}) restarted {{ $value }} times in 30 minutes. Check kubectl logs --previous, OOM kills (memory limits) and failing readiness dependencies.',
    why: 'The 30 minute window already requires three restarts; 1 minute only confirms the scrape saw the new process.',
  },
];
